import { type DeploymentState, type SetupStepName, SetupStepNameValues } from "../api/generated";

/** How the dashboard words each step: `label` names it (the detail page's list), `doing` says
 * what the pod does during it (the dashboard card's progress line). A step the server adds
 * fails the type check here until it has words. */
const WORDS: Record<SetupStepName, { label: string; doing: string }> = {
  preflight: { label: "Preflight checks", doing: "Checking" },
  comfyui: { label: "Install ComfyUI", doing: "Installing ComfyUI" },
  custom_nodes: { label: "Custom nodes", doing: "Installing custom nodes" },
  models: { label: "Download models", doing: "Downloading models" },
  start: { label: "Start ComfyUI", doing: "Starting ComfyUI" },
  ready: { label: "Ready", doing: "Ready" },
};

/** The pod agent's setup steps in the order the server lists them (generated from its OpenAPI). */
export const SETUP_STEPS = SetupStepNameValues.map((step) => ({ step, ...WORDS[step] }));

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
