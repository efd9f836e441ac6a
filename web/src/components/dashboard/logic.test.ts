import { describe, expect, it } from "vitest";
import type { DeploymentState } from "../../api/generated";
import { liveUptime } from "../../lib/uptime";
import { newestFirst, runningCounts, runningHint, setupSummary, utilization } from "./logic";
import { deployment } from "../../test/fixtures";

describe("liveUptime", () => {
  const pod = deployment().pod!; // 125 s at 10:05:00
  it("adds the time since RunPod last saw a running pod", () => {
    expect(liveUptime(pod, Date.parse("2026-11-26T10:05:30Z"))).toBe(155);
  });
  it("never goes back when the browser clock is behind", () => {
    expect(liveUptime(pod, Date.parse("2026-11-26T10:04:00Z"))).toBe(125);
  });
  it("is unknown for a pod that is not running, or none", () => {
    expect(liveUptime({ ...pod, status: "EXITED" }, Date.now())).toBeNull();
    expect(liveUptime(null, Date.now())).toBeNull();
    expect(liveUptime({ ...pod, uptime_s: null }, Date.now())).toBeNull();
    // Counted on past the last sighting by at most five minutes.
    expect(liveUptime(pod, Date.parse(pod.last_seen_at) + 3_600_000)).toBe((pod.uptime_s ?? 0) + 300);
  });
});

describe("setupSummary", () => {
  it("is unknown before the agent reports", () => {
    expect(setupSummary([]).fraction).toBeNull();
  });
  it("names the failed step and counts finished ones", () => {
    const s = setupSummary([
      { step: "preflight", status: "done" },
      { step: "comfyui", status: "skipped" },
      { step: "custom_nodes", status: "failed", message: "git clone failed" },
    ]);
    expect(s.current?.step).toBe("custom_nodes");
    expect(s.index).toBe(3);
    expect(s.fraction).toBeCloseTo(2 / 6);
    expect(s.bytesTotal).toBeNull();
  });
});

describe("utilization and order", () => {
  it("averages the pod's GPUs", () => {
    expect(utilization(deployment().pod)).toBe("GPU 50% · VRAM 40% · CPU 20%");
  });
  it("sorts newest first", () => {
    const list = newestFirst([
      deployment({ id: "a", created_at: "2026-01-01T00:00:00Z" }),
      deployment({ id: "b", created_at: "2026-02-01T00:00:00Z" }),
    ]);
    expect(list.map((d) => d.id)).toEqual(["b", "a"]);
  });
});

describe("runningHint", () => {
  const of = (...states: DeploymentState[]) => runningHint(runningCounts(states.map((state) => deployment({ state }))));

  it("splits the running count into ready and starting, and names stopped pods apart", () => {
    const counts = runningCounts(["ready", "ready", "provisioning", "stopped"].map((state) => deployment({ state: state as DeploymentState })));
    expect(counts).toEqual({ running: 3, ready: 2, starting: 1, stopped: 1 });
    expect(runningHint(counts)).toEqual({ split: "2 ready · 1 starting", stopped: "1 stopped (storage only)" });
  });

  it("leaves out parts that are zero", () => {
    expect(of("ready")).toEqual({ split: "1 ready", stopped: null });
    expect(of("installing", "restarting")).toEqual({ split: "2 starting", stopped: null });
    expect(of("stopped", "terminated")).toEqual({ split: "none running", stopped: "1 stopped (storage only)" });
  });
});
