import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { GalleryPage } from "../../pages/GalleryPage";
import { deployment, output, run, workflowDetail } from "../../test/fixtures";
import { json, renderAt, serve } from "../workflows/testing";

const wf = workflowDetail();
afterEach(() => vi.unstubAllGlobals());

function setup(path = "/gallery") {
  const calls = serve({
    "GET /api/v1/outputs": (_, url) =>
      json(
        url.includes("workflow_id=")
          ? { items: [output({ id: "o2" })], total: 1 }
          : { items: [output({ id: "o1" }), output({ id: "o2" }), output({ id: "o3", filename: "clip.mp4", content_type: "video/mp4", width: null, height: null })], total: 3 },
      ),
    "GET /api/v1/workflows": () => json({ items: [wf], total: 1 }),
    "GET /api/v1/deployments": () => json({ deployments: [deployment()] }),
    "GET /api/v1/runs": () => json({ items: [run({ state: "succeeded", output_count: 3 }), run({ id: "run0", output_count: 0 })], total: 2 }),
  });
  return { calls, ...renderAt(<GalleryPage />, path) };
}

describe("GalleryPage", () => {
  it("shows outputs in a grid; the lightbox steps through them and downloads the file", async () => {
    const user = userEvent.setup();
    setup();
    const tiles = await screen.findAllByTestId("output");
    expect(tiles.map((t) => t.querySelector("img")?.getAttribute("src") ?? t.textContent)).toEqual([
      "/api/v1/outputs/o1/content",
      "/api/v1/outputs/o2/content",
      "clip.mp4clip.mp4",
    ]);
    await user.click(within(tiles[0]!).getByRole("button", { name: "Open ComfyUI_o1.png" }));
    const box = screen.getByTestId("lightbox");
    expect(box.textContent).toContain("512×768 · 3.6 KB · node 9");
    expect(within(box).getByRole("link", { name: "Download" }).getAttribute("href")).toBe("/api/v1/outputs/o1/content");
    await user.keyboard("{ArrowRight}");
    expect(screen.getByRole("dialog", { name: "ComfyUI_o2.png" })).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Next" }));
    expect(screen.getByTestId("lightbox").textContent).toContain("This file is not an image");
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("lightbox")).toBeNull();
  });

  it("filters by workflow and deployment through the address, and by run with the run's zip", async () => {
    const user = userEvent.setup();
    const { calls, location } = setup("/gallery?run=run1");
    await screen.findAllByTestId("output");
    expect(calls.find((c) => c.key === "GET /api/v1/outputs")!.url).toContain("run_id=run1");
    expect(screen.getByRole("link", { name: "Download this run's files (zip)" }).getAttribute("href")).toBe("/api/v1/runs/run1/outputs.zip");
    // The run filter lists the runs that made files (not run0), by workflow.
    await waitFor(() => expect(within(screen.getByLabelText("Run")).getAllByRole("option").map((o) => o.textContent)).toEqual(["Every run", expect.stringMatching(/^fox · .* · 3 files$/)]));
    expect((screen.getByLabelText("Run") as HTMLSelectElement).value).toBe("run1");
    await waitFor(() => expect(within(screen.getByLabelText("Workflow")).getAllByRole("option")).toHaveLength(2));
    await user.selectOptions(screen.getByLabelText("Workflow"), wf.id);
    expect(location.history?.at(-1)).toBe(`/gallery?run=run1&workflow=${wf.id}`);
    await waitFor(() => expect(screen.getAllByTestId("output")).toHaveLength(1));
    expect(calls.at(-1)!.url).toContain(`workflow_id=${wf.id}`);
    await user.selectOptions(screen.getByLabelText("Run"), "");
    expect(location.history?.at(-1)).toBe(`/gallery?workflow=${wf.id}`);
  });
});
