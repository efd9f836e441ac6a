import { describe, expect, it } from "vitest";
import type { DeploymentView } from "../api/generated";
import { keys, patchDeployment, staleKeys } from "./applyEvent";
import type { HangarEvent } from "./eventStream";

const base = {
  id: "d1",
  state: "installing",
  reason: null,
  setup: [{ step: "models", status: "running", bytes_done: 0, bytes_total: 1000 }],
  cost: { so_far_usd: "0.010000", per_hour_usd: "0.69", metered_until: null, projections: {} },
  pod: null,
} as unknown as DeploymentView;

function event(type: HangarEvent["type"], data: Record<string, unknown>): HangarEvent {
  return { id: 1, type, time: "", deployment_id: "d1", pod_id: null, data } as HangarEvent;
}

describe("patchDeployment", () => {
  it("takes the aggregated download line, with the file in flight", () => {
    const next = patchDeployment(base, event("setup_progress", { step: "models", status: "running", item: "a.safetensors", bytes_done: 600, bytes_total: 1000 }));
    expect(next.setup[0]).toMatchObject({ status: "running", item: "a.safetensors", bytes_done: 600 });
  });

  it("does not end the step when one file is done", () => {
    const next = patchDeployment(base, event("setup_progress", { step: "models", status: "done", item: "a.safetensors" }));
    expect(next.setup[0]!.status).toBe("running");
  });

  it("applies state and cost", () => {
    const state = patchDeployment(base, event("deployment_state", { state: "ready", previous: "installing", reason: null }));
    expect(state.state).toBe("ready");
    const cost = patchDeployment(base, event("cost_update", { so_far_usd: "0.020000", per_hour_usd: "0.69" }));
    expect(cost.cost.so_far_usd).toBe("0.020000");
  });
});

describe("staleKeys", () => {
  it("refetches the deployments and pods when a pod is adopted (a new deployment appears)", () => {
    const keysOf = staleKeys(event("pod_adopted", { status: "RUNNING", name: "made-elsewhere" }));
    expect(keysOf).toContainEqual(keys.deployments);
    expect(keysOf).toContainEqual(keys.pods);
    expect(keysOf).toContainEqual(keys.deployment("d1"));
  });
});
