import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { applyToCache } from "../../live/applyEvent";
import type { HangarEvent } from "../../live/eventStream";
import { RunPage } from "../../pages/RunPage";
import { RunsPage } from "../../pages/RunsPage";
import { deployment, output, run, workflowDetail } from "../../test/fixtures";
import { json, renderAt, serve } from "../workflows/testing";

const wf = workflowDetail();
/** A run event of run1 as the server sends it (the common fields, then `data`). */
const runEvent = (type: "run_progress" | "run_finished", data: Record<string, unknown>, id = 5): HangarEvent =>
  ({
    id,
    type,
    time: "2026-11-26T10:00:05Z",
    deployment_id: "dep1",
    pod_id: null,
    data: { run_id: "run1", batch_id: "batch1", server_id: null, workflow_id: wf.id, state: "running", ...data },
  }) as HangarEvent;
const progress = (data: Record<string, unknown>, id = 5) => runEvent("run_progress", data, id);

afterEach(() => vi.unstubAllGlobals());

describe("RunsPage", () => {
  it("lists runs with their state and per-node progress, moved by events without fetching again", async () => {
    const calls = serve({
      "GET /api/v1/runs": () => json({ items: [run(), run({ id: "run2", state: "succeeded", output_count: 2, progress: { percent: 100 } })], total: 2 }),
      "GET /api/v1/workflows": () => json({ items: [wf], total: 1 }),
    });
    const { client } = renderAt(<RunsPage />, "/runs");
    const rows = await screen.findAllByTestId("run-row");
    expect(rows.map((r) => within(r).getByTestId("run-state").dataset.state)).toEqual(["running", "succeeded"]);
    await waitFor(() => expect(rows[0]!.textContent).toContain("fox v2"));
    expect(within(rows[0]!).getByTestId("run-progress").textContent).toBe("node 3, step 5/20 · 3/7 nodes");
    expect(within(rows[1]!).getByTestId("run-progress").textContent).toBe("Done · 2 outputs");
    expect(within(rows[1]!).queryByRole("button", { name: "Cancel" })).toBeNull();

    const fetched = calls.length;
    act(() => applyToCache(client, progress({ progress: { node: "8", step: null, steps: null, percent: 95, nodes_done: 6, nodes_total: 7 } })));
    await waitFor(() => expect(within(rows[0]!).getByTestId("run-progress").textContent).toBe("node 8 · 6/7 nodes"));
    expect(within(rows[0]!).getByRole("progressbar").getAttribute("aria-valuenow")).toBe("95");
    expect(calls.length).toBe(fetched);
  });

  it("filters by batch from the address, and cancels a run", async () => {
    const user = userEvent.setup();
    const calls = serve({
      "GET /api/v1/runs": () => json({ items: [run()], total: 1 }),
      "GET /api/v1/workflows": () => json({ items: [wf], total: 1 }),
      "POST /api/v1/runs/run1/cancel": () => json(run({ cancel_requested: true })),
    });
    renderAt(<RunsPage />, "/runs?batch=batch1");
    const row = await screen.findByTestId("run-row");
    expect(calls.find((c) => c.key === "GET /api/v1/runs")!.url).toContain("batch_id=batch1");
    await user.click(within(row).getByRole("button", { name: "Cancel" }));
    await waitFor(() => expect(within(row).getByRole("button", { name: "Cancelling…" })).toHaveProperty("disabled", true));
    expect(within(row).getByTestId("run-state").textContent).toBe("cancelling");
  });
});

describe("RunPage", () => {
  it("shows the run's node by name, its preview while it runs, then its outputs and the zip", async () => {
    serve({
      "GET /api/v1/runs/run1": () => json(run()),
      [`GET /api/v1/workflows/${wf.id}`]: () => json(wf),
      "GET /api/v1/outputs": () => json({ items: [], total: 0 }),
      "GET /api/v1/deployments": () => json({ deployments: [deployment()] }),
    });
    const { client } = renderAt(<RunPage id="run1" />, "/runs/run1");
    const text = await screen.findByTestId("run-progress");
    await waitFor(() => expect(text.textContent).toBe("node 3 (KSampler), step 5/20 · 3/7 nodes"));
    expect(screen.getByText("No output yet")).toBeTruthy();
    await waitFor(() => expect(screen.getByTestId("run-target").textContent).toBe("flux-dev"));
    act(() => applyToCache(client, progress({ progress: run().progress, preview_url: "/api/v1/runs/run1/preview" }, 9)));
    expect((await screen.findByTestId("run-preview")).getAttribute("src")).toBe("/api/v1/runs/run1/preview?v=9");

    client.setQueryData(["outputs", { run_id: "run1" }], { items: [output()], total: 1 });
    act(() =>
      applyToCache(client, runEvent("run_finished", { state: "succeeded", outputs: 1 }, 10)),
    );
    await waitFor(() => expect(screen.getByTestId("run-state").dataset.state).toBe("succeeded"));
    expect(screen.queryByTestId("run-preview")).toBeNull();
    expect(screen.queryByRole("button", { name: "Cancel" })).toBeNull();
    await waitFor(() => expect(screen.getAllByTestId("output")).toHaveLength(1));
    expect(screen.getByRole("link", { name: "Download all (zip)" }).getAttribute("href")).toBe("/api/v1/runs/run1/outputs.zip");
  });

  it("shows ComfyUI's error node by node when the run failed", async () => {
    serve({
      "GET /api/v1/runs/run1": () =>
        json(run({ state: "failed", error: { type: "execution_error", message: "KSampler: out of memory", nodes: [{ node_id: "3", class_type: "KSampler", message: "CUDA out of memory" }] } })),
      [`GET /api/v1/workflows/${wf.id}`]: () => json(wf),
      "GET /api/v1/outputs": () => json({ items: [], total: 0 }),
    });
    renderAt(<RunPage id="run1" />, "/runs/run1");
    expect((await screen.findByTestId("run-progress")).textContent).toBe("KSampler: out of memory");
    expect(screen.getByText(/Node 3 \(KSampler\):/).textContent).toBe("Node 3 (KSampler): CUDA out of memory");
    expect(screen.getByText("This run made no output")).toBeTruthy();
  });
});
