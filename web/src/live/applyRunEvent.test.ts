import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";
import type { RunList, RunView } from "../api/generated";
import { run } from "../test/fixtures";
import { applyToCache, keys, patchRun, staleKeys } from "./applyEvent";
import type { HangarEvent } from "./eventStream";

const event = (type: HangarEvent["type"], data: Record<string, unknown>, id = 10): HangarEvent =>
  ({
    id,
    type,
    time: "2026-11-26T10:02:00Z",
    deployment_id: "dep1",
    pod_id: null,
    data: { run_id: "run1", batch_id: "batch1", server_id: null, workflow_id: null, ...data },
  }) as HangarEvent;

describe("run events", () => {
  it("a run_progress moves the run's node, step and percent in its page and in every list, without a refetch", () => {
    const client = new QueryClient();
    client.setQueryData(keys.run("run1"), run());
    const listKey = [...keys.runs, { workflow_id: "w" }];
    client.setQueryData<RunList>(listKey, { items: [run(), run({ id: "run2" })], total: 2 });
    const progress = { node: "8", step: null, steps: null, percent: 90, nodes_done: 6, nodes_total: 7 };
    const e = event("run_progress", { state: "running", progress, preview_url: "/api/v1/runs/run1/preview" }, 42);
    applyToCache(client, e);
    expect(client.getQueryData<RunView>(keys.run("run1"))?.progress).toEqual(progress);
    const list = client.getQueryData<RunList>(listKey)!;
    expect(list.items[0]!.progress).toEqual(progress);
    expect(list.items[1]!.progress.percent).toBe(40); // another run: untouched
    expect(client.getQueryData(keys.runPreview("run1"))).toBe("/api/v1/runs/run1/preview?v=42");
    expect(staleKeys(e)).toEqual([]);
  });

  it("a run_finished ends the run with its error, drops its preview and refreshes runs and outputs", () => {
    const error = { type: "execution_error", message: "KSampler failed", nodes: [] };
    const e = event("run_finished", { state: "failed", error, outputs: 0 });
    const done = patchRun(run(), e);
    expect(done).toMatchObject({ state: "failed", error, finished_at: "2026-11-26T10:02:00Z" });
    expect(staleKeys(e)).toEqual([keys.runs, keys.outputs, keys.run("run1")]);
    const client = new QueryClient();
    client.setQueryData(keys.runPreview("run1"), "/x?v=1");
    applyToCache(client, e);
    expect(client.getQueryData(keys.runPreview("run1"))).toBeNull();
  });

  it("a run_output counts the output and refreshes the gallery; other runs' events change nothing", () => {
    const e = event("run_output", { state: "running", output_id: "o1" });
    expect(patchRun(run(), e).output_count).toBe(1);
    expect(staleKeys(e)).toEqual([keys.outputs]);
    const other = run({ id: "run9" });
    expect(patchRun(other, e)).toBe(other);
  });
});
