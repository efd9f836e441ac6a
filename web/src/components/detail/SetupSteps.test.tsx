import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { SetupSteps } from "./SetupSteps";
import type { SetupStep } from "../../api/generated";

describe("SetupSteps", () => {
  it("shows all six steps in order, unreported ones as pending", () => {
    render(<SetupSteps steps={[{ step: "preflight", status: "done", message: "ok" }]} />);
    const rows = screen.getAllByTestId("setup-step");
    expect(rows.map((r) => r.dataset.step)).toEqual(["preflight", "comfyui", "custom_nodes", "models", "start", "ready"]);
    expect(rows.map((r) => r.dataset.status)).toEqual(["done", "pending", "pending", "pending", "pending", "pending"]);
    expect(within(rows[0]!).getByText("ok")).toBeTruthy();
  });

  it("shows a running download's bytes, speed, time left and progress", () => {
    render(
      <SetupSteps
        steps={[
          { step: "comfyui", status: "done" },
          { step: "models", status: "running", message: "sd_xl_base_1.0.safetensors", bytes_done: 2_500_000_000, bytes_total: 10_000_000_000, speed_bps: 50_000_000, eta_s: 150 },
        ]}
      />,
    );
    const models = screen.getAllByTestId("setup-step").find((r) => r.dataset.step === "models")!;
    expect(models.dataset.status).toBe("running");
    const bar = within(models).getByRole("progressbar");
    expect(bar.getAttribute("aria-valuenow")).toBe("25");
    expect(within(models).getByTestId("setup-step-bytes").textContent).toContain("2.5 GB of 10.0 GB · 50.0 MB/s · 2m 30s left");
    expect(within(models).getByText("sd_xl_base_1.0.safetensors")).toBeTruthy();
  });

  it("marks a failed step and shows why", () => {
    render(<SetupSteps steps={[{ step: "custom_nodes", status: "failed", message: "git clone failed: 404" }]} />);
    const nodes = screen.getAllByTestId("setup-step").find((r) => r.dataset.step === "custom_nodes")!;
    expect(nodes.dataset.status).toBe("failed");
    expect(within(nodes).getByText("git clone failed: 404")).toBeTruthy();
    expect(within(nodes).getByText("Failed")).toBeTruthy();
  });

  it("shows steps the agent skipped as skipped, not pending", () => {
    render(
      <SetupSteps
        steps={[
          { step: "preflight", status: "done" },
          { step: "comfyui", status: "done" },
          { step: "custom_nodes", status: "skipped", message: "nothing to install" },
          { step: "models", status: "skipped" },
          { step: "start", status: "done" },
          { step: "ready", status: "done" },
        ]}
      />,
    );
    const rows = screen.getAllByTestId("setup-step");
    expect(rows.map((r) => r.dataset.status)).toEqual(["done", "done", "skipped", "skipped", "done", "done"]);
    const models = rows.find((r) => r.dataset.step === "models")!;
    expect(within(models).getByText("Skipped")).toBeTruthy();
    expect(within(models).queryByText("Pending")).toBeNull();
    expect(screen.queryByText("Pending")).toBeNull();
  });

  it.each([
    ["stopped", "ended", true],
    ["terminated", "ended", true],
    ["starting", "pending", true],
    ["ready", "done", false],
  ] as const)("says ComfyUI is ready only while the deployment is (%s)", (state, shown, note) => {
    const last: SetupStep[] = [
      { step: "start", status: "done" },
      { step: "ready", status: "done", message: "ComfyUI answers" },
    ];
    render(<SetupSteps steps={last} state={state} />);
    const ready = screen.getAllByTestId("setup-step").find((r) => r.dataset.step === "ready")!;
    expect(ready.dataset.status).toBe(shown);
    expect(within(ready).queryByText("Done") === null).toBe(state !== "ready");
    expect(screen.queryByTestId("setup-note") !== null).toBe(note);
  });

  it("treats a status it does not know as pending", () => {
    render(<SetupSteps steps={[{ step: "start", status: "started" }]} />);
    expect(screen.getAllByTestId("setup-step").find((r) => r.dataset.step === "start")!.dataset.status).toBe("pending");
  });
});
