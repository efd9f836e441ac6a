import type { DeploymentState } from "../api/generated";

/**
 * The pod agent's six setup steps, in order: `label` names a step (the detail page's list),
 * `doing` says what the pod does during it (the dashboard card's progress line).
 */
export const SETUP_STEPS = [
  { step: "preflight", label: "Preflight checks", doing: "Checking" },
  { step: "comfyui", label: "Install ComfyUI", doing: "Installing ComfyUI" },
  { step: "custom_nodes", label: "Custom nodes", doing: "Installing custom nodes" },
  { step: "models", label: "Download models", doing: "Downloading models" },
  { step: "start", label: "Start ComfyUI", doing: "Starting ComfyUI" },
  { step: "ready", label: "Ready", doing: "Ready" },
] as const;

/** States in which the pod is not up (and will not be, unless someone starts it again). */
const DOWN: ReadonlySet<DeploymentState> = new Set(["stopping", "stopped", "terminating", "terminated", "failed"]);

/**
 * What the setup steps stand for in `state`: the run going on now (`live`), the last run of
 * a pod that is down (`past`), or the last run while a new one begins (`restarting`). Only a
 * ready deployment's steps may say ComfyUI is ready: the others' `ready` step is history.
 */
export function setupRun(state: DeploymentState | undefined): "live" | "past" | "restarting" {
  if (state === undefined || state === "ready" || state === "installing") return "live";
  return DOWN.has(state) ? "past" : "restarting";
}
