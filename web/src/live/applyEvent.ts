/**
 * How a live event changes what the dashboard shows. The visible fields (state badge, setup
 * progress, cost) are patched into the TanStack Query cache at once; the queries the event
 * touches are then refetched (throttled by the caller) so every other field catches up.
 */
import type { QueryClient, QueryKey } from "@tanstack/react-query";
import type { DeploymentCostView, DeploymentDetail, DeploymentList, DeploymentView, RunList, RunView, SetupStep } from "../api/generated";
import { laterCost } from "../lib/cost";
import type { HangarEvent } from "./eventStream";

export const keys = {
  deployments: ["deployments"] as const,
  deployment: (id: string) => ["deployment", id] as const,
  health: ["health"] as const,
  costs: ["costs"] as const,
  budgets: ["budgets"] as const,
  pods: ["pods"] as const,
  workflows: ["workflows"] as const,
  workflow: (id: string) => ["workflow", id] as const,
  servers: ["comfyui-servers"] as const,
  /** Every list of runs starts with this (then its filters). */
  runs: ["runs"] as const,
  run: (id: string) => ["run", id] as const,
  /** The latest preview of a running run, as its last `run_progress` named it. */
  runPreview: (id: string) => ["run-preview", id] as const,
  /** Every list of outputs starts with this (then its filters). */
  outputs: ["outputs"] as const,
};

type RunEvent = Extract<HangarEvent, { type: "run_queued" | "run_progress" | "run_output" | "run_finished" }>;

function isRunEvent(event: HangarEvent): event is RunEvent {
  return event.type === "run_queued" || event.type === "run_progress" || event.type === "run_output" || event.type === "run_finished";
}

/** A run with the event's visible effect applied: its state, progress, error, outputs. */
export function patchRun(run: RunView, event: HangarEvent): RunView {
  if (!isRunEvent(event) || event.data.run_id !== run.id) return run;
  const patched: RunView = { ...run, state: event.data.state };
  switch (event.type) {
    case "run_progress":
      patched.progress = event.data.progress;
      break;
    case "run_output":
      patched.output_count = run.output_count + 1;
      break;
    case "run_finished":
      patched.error = event.data.error ?? null;
      patched.finished_at = run.finished_at ?? event.time;
      if (event.data.outputs !== undefined) patched.output_count = Math.max(run.output_count, event.data.outputs);
      break;
  }
  return patched;
}

/** Patch the run of a run event wherever it is cached: its own page and every list of runs. */
export function applyRunEvent(client: QueryClient, event: HangarEvent): void {
  if (!isRunEvent(event)) return;
  const runId = event.data.run_id;
  client.setQueryData<RunView>(keys.run(runId), (run) => run && patchRun(run, event));
  client.setQueriesData<RunList>({ queryKey: keys.runs }, (list) =>
    list && { ...list, items: list.items.map((r) => patchRun(r, event)) },
  );
  if (event.type === "run_progress" && event.data.preview_url) {
    // The event's id makes each preview a new address, so the browser fetches the new image.
    client.setQueryData(keys.runPreview(runId), `${event.data.preview_url}?v=${event.id}`);
  }
  if (event.type === "run_finished") client.setQueryData(keys.runPreview(runId), null);
}

/** The deployment's cost as an event carries it (the view's `cost`), on top of the shown one. */
function eventCost(shown: DeploymentCostView, carried: unknown): DeploymentCostView {
  if (typeof carried !== "object" || carried === null) return shown;
  const c = carried as Partial<DeploymentCostView>;
  return laterCost(shown, {
    so_far_usd: String(c.so_far_usd ?? shown.so_far_usd),
    per_hour_usd: String(c.per_hour_usd ?? shown.per_hour_usd),
    metered_until: c.metered_until === undefined ? shown.metered_until : c.metered_until,
    projections: c.projections ?? shown.projections,
  });
}

/** A deployment with the event's visible effect applied (the same object when it has none). */
export function patchDeployment<T extends DeploymentView>(dep: T, event: HangarEvent): T {
  switch (event.type) {
    case "deployment_state":
      // The state, why, and its rate change together: the event carries all three.
      return {
        ...dep,
        state: event.data.state,
        reason: event.data.reason ?? null,
        cost: eventCost(dep.cost, event.data.cost),
      };
    case "cost_update":
      return { ...dep, cost: eventCost(dep.cost, event.data) };
    case "setup_progress": {
      const data = event.data;
      const step = data.step;
      // Lines about one file or node (an `item`, status other than the aggregated `running`)
      // do not change the step: a file's `done` is not the step's.
      if (!step || (data.item != null && data.status !== "running")) return dep;
      const update: SetupStep = { ...(dep.setup.find((s) => s.step === step) ?? { step, status: "running" }) };
      for (const field of ["status", "item", "message", "bytes_done", "bytes_total", "speed_bps", "eta_s"] as const) {
        if (field in data) (update as unknown as Record<string, unknown>)[field] = data[field];
      }
      const exists = dep.setup.some((s) => s.step === step);
      const setup = exists ? dep.setup.map((s) => (s.step === step ? update : s)) : [...dep.setup, update];
      return { ...dep, setup };
    }
    case "pod_status":
      return dep.pod ? { ...dep, pod: { ...dep.pod, status: String(event.data.status ?? dep.pod.status) } } : dep;
    default:
      return dep;
  }
}

/** The queries to refetch after this event. */
export function staleKeys(event: HangarEvent): QueryKey[] {
  const id = event.deployment_id;
  switch (event.type) {
    case "run_queued":
      return [keys.runs];
    case "run_progress":
      // Patched in place (applyRunEvent): nothing to fetch, however fast progress comes.
      return [];
    case "run_output":
      return [keys.outputs];
    case "run_finished":
      return [keys.runs, keys.outputs, keys.run(event.data.run_id)];
    case "cost_update":
      return [keys.costs, ...(id ? [keys.deployment(id)] : [])];
    case "budget_warning":
    case "budget_exceeded":
      return [keys.budgets, keys.costs];
    case "billing_mismatch":
      return [keys.costs];
    case "deployment_state":
      // A new state is a new rate: the cost summary (the Costs page's burn rate) moves too.
      return [keys.deployments, keys.pods, keys.costs, ...(id ? [keys.deployment(id)] : [])];
    default:
      return [keys.deployments, keys.pods, ...(id ? [keys.deployment(id)] : [])];
  }
}

/** Patch the cached list and detail of the event's deployment. */
export function applyToCache(client: QueryClient, event: HangarEvent): void {
  applyRunEvent(client, event);
  const id = event.deployment_id;
  if (!id || isRunEvent(event)) return;
  client.setQueryData<DeploymentList>(keys.deployments, (list) =>
    list && { ...list, deployments: list.deployments.map((d) => (d.id === id ? patchDeployment(d, event) : d)) },
  );
  client.setQueryData<DeploymentDetail>(keys.deployment(id), (detail) => detail && patchDeployment(detail, event));
}
