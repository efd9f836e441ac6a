import { describe, expect, it } from "vitest";
import type { DeploymentState, Desired } from "../api/generated";
import { deployment } from "../test/fixtures";
import { allowedActions } from "./actions";

const allowed = (state: DeploymentState, desired: Desired = "running", withPod = true) =>
  allowedActions(deployment({ state, desired_state: desired, ...(withPod ? {} : { pod: null }) }));

describe("allowedActions", () => {
  it("allows terminate except when terminating or terminated", () => {
    expect(allowed("failed").terminate).toBe(true);
    expect(allowed("terminating", "terminated").terminate).toBe(false);
    expect(allowed("terminated", "terminated").terminate).toBe(false);
  });
  it("allows stop while a pod is coming up or runs, not once it is stopping", () => {
    for (const state of ["pending", "creating", "provisioning", "starting", "installing", "ready", "restarting"] as const) {
      expect([state, allowed(state).stop]).toEqual([state, true]);
    }
    expect(allowed("stopping", "stopped").stop).toBe(false);
    expect(allowed("stopped", "stopped").stop).toBe(false);
  });
  it("allows start of what is stopped or stopping, and a retry of what failed", () => {
    expect(allowed("stopped", "stopped").start).toBe(true);
    expect(allowed("stopping", "stopped").start).toBe(true);
    expect(allowed("failed").start).toBe(true);
    expect(allowed("ready").start).toBe(false);
  });
  it("allows restart once ComfyUI's pod exists and is meant to run", () => {
    expect(allowed("ready").restart).toBe(true);
    expect(allowed("installing").restart).toBe(true);
    expect(allowed("provisioning").restart).toBe(false);
    expect(allowed("ready", "stopped").restart).toBe(false);
  });
  it("offers stop and restart of a failed deployment only while it still has a pod", () => {
    expect(allowed("failed")).toMatchObject({ stop: true, restart: true });
    expect(allowed("failed", "running", false)).toMatchObject({ stop: false, restart: false, start: true });
  });
});
