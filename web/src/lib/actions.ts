/**
 * Which actions make sense for a deployment, as a user would expect them and as the API allows
 * them (the server is the final judge: 409). The dashboard card and the detail header both use it.
 */
import type { DeploymentView } from "../api/generated";
import type { DeploymentAction } from "../api/queries";

type Dep = Pick<DeploymentView, "state" | "desired_state" | "pod">;

const GONE = new Set(["terminating", "terminated"]);

export function allowedActions(dep: Dep): Record<DeploymentAction, boolean> {
  const { state, desired_state: desired } = dep;
  const gone = GONE.has(state) || desired === "terminated";
  const hasPod = dep.pod !== null;
  return {
    // Stop anything on its way up or running (a failed one only if a pod still bills).
    stop: !gone && desired === "running" && state !== "stopped" && state !== "stopping" && (state !== "failed" || hasPod),
    // Start what is stopped (or being stopped: changing one's mind), retry what failed.
    start: !gone && (desired === "stopped" || state === "stopped" || state === "failed"),
    // Restart ComfyUI's pod once it exists and is meant to run.
    restart: !gone && desired === "running" && (state === "installing" || state === "ready" || (state === "failed" && hasPod)),
    terminate: !gone,
  };
}
