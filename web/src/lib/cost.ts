/**
 * A deployment's cost as the dashboard shows it. The server computes the one rate of each
 * deployment (by the state its pod is in) and what the meter billed; the dashboard only keeps
 * the newest of what it heard, and adds rates up.
 */
import type { DeploymentCostView, DeploymentList, DeploymentView } from "../api/generated";

const amount = (value: string | null | undefined) => {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
};

/**
 * The cost to show when `incoming` arrives while `current` is shown: its rate and projections
 * (the newest word on the deployment's state), and the larger cost so far. What the meter
 * billed only grows, so an answer read before the last event but delivered after it never
 * takes cost so far back.
 */
export function laterCost(current: DeploymentCostView | undefined, incoming: DeploymentCostView): DeploymentCostView {
  if (!current || amount(incoming.so_far_usd) >= amount(current.so_far_usd)) return incoming;
  return { ...incoming, so_far_usd: current.so_far_usd, metered_until: current.metered_until };
}

/** `incoming` with its cost merged into the one shown (`laterCost`). */
export function withLaterCost<T extends DeploymentView>(current: T | undefined, incoming: T): T {
  if (!current || current.id !== incoming.id) return incoming;
  const cost = laterCost(current.cost, incoming.cost);
  return cost === incoming.cost ? incoming : { ...incoming, cost };
}

/** A freshly read list, each deployment's cost merged into the one shown. */
export function listWithLaterCosts(current: DeploymentList | undefined, incoming: DeploymentList): DeploymentList {
  if (!current) return incoming;
  const shown = new Map(current.deployments.map((d) => [d.id, d]));
  return { ...incoming, deployments: incoming.deployments.map((d) => withLaterCost(shown.get(d.id), d)) };
}

/** What everything costs per hour: each deployment's own rate, plus the network volumes. */
export function burnRate(deployments: readonly Pick<DeploymentView, "cost">[], volumesPerHour: string | number): number {
  let total = amount(String(volumesPerHour));
  for (const d of deployments) total += amount(d.cost.per_hour_usd);
  return Math.round(total * 1e6) / 1e6;
}

/** What the rate pays for now, from the deployment's state and its pod's status. */
export function rateHint(dep: Pick<DeploymentView, "state" | "cost" | "pod">): string {
  if (dep.state === "terminated") return "nothing bills any more";
  if (amount(dep.cost.per_hour_usd) === 0) return "nothing bills now";
  if (dep.pod?.status === "RUNNING") return "GPU and storage";
  if (dep.state === "stopped" || dep.pod?.status === "EXITED") return "storage while stopped";
  return "storage only: the GPU bills once the pod runs";
}
