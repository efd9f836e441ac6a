/**
 * What the dashboard derives from a deployment: what "pods running" counts, where its setup
 * is, how busy it is. Pure functions, so the rules are tested without rendering.
 */
import type { DeploymentState, DeploymentView, PodView, SetupStep } from "../../api/generated";
import { SETUP_STEPS } from "../../lib/setupSteps";

/** States in which the deployment has (or is getting) a running pod: what "pods running" counts. */
const RUNNING_STATES: ReadonlySet<DeploymentState> = new Set([
  "provisioning", "starting", "installing", "ready", "restarting",
]);

/**
 * What "pods running" counts and how it splits: ready, and still getting there (the rest of
 * RUNNING_STATES); stopped deployments are not counted (their pods bill only storage).
 */
export function runningCounts(deployments: readonly Pick<DeploymentView, "state">[]) {
  const running = deployments.filter((d) => RUNNING_STATES.has(d.state)).length;
  const ready = deployments.filter((d) => d.state === "ready").length;
  const stopped = deployments.filter((d) => d.state === "stopped").length;
  return { running, ready, starting: running - ready, stopped };
}

/** The lines under "pods running": how the number splits (adds up to it), then what it leaves out. */
export function runningHint(counts: ReturnType<typeof runningCounts>): { split: string; stopped: string | null } {
  const parts = [counts.ready > 0 ? `${counts.ready} ready` : null, counts.starting > 0 ? `${counts.starting} starting` : null].filter(Boolean);
  return {
    split: parts.length > 0 ? parts.join(" · ") : "none running",
    stopped: counts.stopped > 0 ? `${counts.stopped} stopped (storage only)` : null,
  };
}

/** Newest first (the API already sorts so; kept here so the cache patches can never reorder). */
export function newestFirst<T extends Pick<DeploymentView, "created_at">>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
}

/** What the pod does during `step`, for a step the agent names (a newer one by its name). */
export function stepLabel(step: string): string {
  return SETUP_STEPS.find((s) => s.step === step)?.doing ?? step.replace(/_/g, " ");
}

export interface SetupSummary {
  /** The step being worked on (or the failed one, or the last one reported). */
  current: SetupStep | null;
  /** Its position, 1-based, among the six steps. */
  index: number;
  /** 0..1 over all six steps; null when nothing was reported yet. */
  fraction: number | null;
  /** Bytes of the current step, when the agent reports them. */
  bytesDone: number | null;
  bytesTotal: number | null;
}

function isActive(step: SetupStep) {
  return step.status === "running" || step.status === "started";
}

/**
 * Where the setup of an installing deployment stands: finished steps count whole, the current
 * one by its bytes. A `ready` left from the pod's last run does not count: it is not ready now.
 */
export function setupSummary(reported: readonly SetupStep[]): SetupSummary {
  const setup = reported.filter((s) => s.step !== "ready");
  if (setup.length === 0) return { current: null, index: 0, fraction: null, bytesDone: null, bytesTotal: null };
  const current =
    [...setup].reverse().find((s) => s.status === "failed") ??
    [...setup].reverse().find(isActive) ??
    setup[setup.length - 1] ??
    null;
  let finished = 0;
  for (const step of setup) if (step.status === "done" || step.status === "skipped") finished += 1;
  const total = current?.bytes_total ?? null;
  const done = current?.bytes_done ?? null;
  const partial = current && isActive(current) && total && done !== null ? Math.min(1, done / total) : 0;
  const index = current ? Math.max(1, SETUP_STEPS.findIndex((s) => s.step === current.step) + 1) : 0;
  return {
    current,
    index,
    fraction: Math.min(1, (finished + partial) / SETUP_STEPS.length),
    bytesDone: current && isActive(current) && total ? (done ?? 0) : null,
    bytesTotal: current && isActive(current) && total ? total : null,
  };
}

/** One line telling what a deployment in `state` is doing, for states without a richer view. */
export function stateLine(state: DeploymentState): string {
  switch (state) {
    case "pending":
      return "Queued: the pod will be requested from RunPod in a moment.";
    case "creating":
      return "Asking RunPod for a pod with this GPU…";
    case "provisioning":
      return "RunPod is preparing the machine and pulling the image.";
    case "starting":
      return "The pod is starting; ComfyUI setup follows.";
    case "installing":
      return "Setting up ComfyUI…";
    case "ready":
      return "ComfyUI is up and answering.";
    case "stopping":
      return "Stopping the pod…";
    case "stopped":
      return "Stopped: the GPU no longer bills; the disk is kept and still bills.";
    case "restarting":
      return "Restarting ComfyUI…";
    case "terminating":
      return "Deleting the pod and its volume…";
    case "terminated":
      return "Terminated: the pod and its volume are gone; nothing bills.";
    case "failed":
      return "Failed.";
  }
}

/** `GPU 41% · VRAM 50%` (averaged over the pod's GPUs), or null when RunPod reported nothing. */
export function utilization(pod: PodView | null): string | null {
  if (!pod || pod.status !== "RUNNING") return null;
  const avg = (values: number[] | undefined) =>
    values && values.length ? Math.round(values.reduce((a, b) => a + b, 0) / values.length) : null;
  const parts: string[] = [];
  const gpu = avg(pod.gpu_util);
  const vram = avg(pod.gpu_memory_util);
  if (gpu !== null) parts.push(`GPU ${gpu}%`);
  if (vram !== null) parts.push(`VRAM ${vram}%`);
  if (pod.cpu_util !== null && pod.cpu_util !== undefined) parts.push(`CPU ${Math.round(pod.cpu_util)}%`);
  return parts.length ? parts.join(" · ") : null;
}
