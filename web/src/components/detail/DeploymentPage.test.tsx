import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { DeploymentDetail } from "../../api/generated";
import { DeploymentPage } from "../../pages/DeploymentPage";
import { deploymentDetail as detail } from "../../test/fixtures";
import { json, renderWithClient } from "./testing";

vi.mock("uplot", () => ({
  default: class {
    setData() {}
    setSize() {}
    destroy() {}
  },
}));

let calls: { method: string; url: string }[] = [];
function serve(dep: DeploymentDetail | null, after?: Partial<DeploymentDetail>) {
  calls = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const method = init?.method ?? "GET";
      calls.push({ method, url });
      if (url.includes("/logs")) return json({ deployment_id: "dep1", lines: [] });
      if (!dep) return json({ status: 404, code: "not_found", detail: "no deployment dep1", title: "Not Found" }, 404);
      // An action changes what later reads see.
      if (method !== "GET") dep = { ...dep, ...after };
      return json(dep, method === "GET" ? 200 : 202);
    }),
  );
}
beforeEach(() => vi.stubGlobal("EventSource", class { close() {} addEventListener() {} }));
afterEach(() => vi.unstubAllGlobals());

describe("DeploymentPage", () => {
  it("says a deployment that does not exist is not found, with a way back", async () => {
    serve(null);
    renderWithClient(<DeploymentPage id="dep1" />);
    expect(screen.getByTestId("detail-loading")).toBeTruthy();
    await waitFor(() => expect(screen.getByText("Deployment not found")).toBeTruthy());
    expect(screen.getByRole("link", { name: "Back to deployments" }).getAttribute("href")).toBe("/");
  });

  it("shows another error with a retry", async () => {
    calls = [];
    vi.stubGlobal("fetch", vi.fn(async () => json({ status: 500, code: "internal_error", detail: "Internal error" }, 500)));
    renderWithClient(<DeploymentPage id="dep1" />);
    await waitFor(() => expect(screen.getByRole("alert").textContent).toContain("Could not load this deployment"));
    expect(screen.getByRole("button", { name: "Try again" })).toBeTruthy();
  });

  it("shows state, where it runs, cost, history and steps of a ready deployment", async () => {
    serve(
      detail({
        history: [
          { state: "pending", at: "2026-11-26T08:00:00Z" },
          { state: "ready", at: "2026-11-26T08:00:30Z" },
        ],
        setup: [{ step: "ready", status: "done" }],
      }),
    );
    renderWithClient(<DeploymentPage id="dep1" />);
    await waitFor(() => expect(screen.getByRole("heading", { name: "flux-dev" })).toBeTruthy());
    expect(within(screen.getByTestId("detail-state")).getByTestId("state-badge").dataset.state).toBe("ready");
    expect(screen.getByText("2 × NVIDIA GeForce RTX 4090")).toBeTruthy();
    expect(screen.getByText("EU-RO-1")).toBeTruthy();
    expect(screen.getByTestId("detail-cost-so-far").textContent).toBe("$1.23");
    expect(screen.getByText("$0.901/h")).toBeTruthy();
    expect(screen.getByTestId("detail-projection-month").textContent).toContain("$648.00");
    expect(screen.getAllByTestId("timeline-entry")).toHaveLength(2);
    expect(screen.getAllByTestId("setup-step")).toHaveLength(6);
    expect(screen.getByRole("link", { name: /Open ComfyUI/ }).getAttribute("href")).toBe("/api/v1/deployments/dep1/open");
    expect(document.querySelector("section#logs [data-testid=log-viewer]")).toBeTruthy();
    // A ready deployment can be stopped, restarted, terminated; not started.
    expect((screen.getByRole("button", { name: "Stop" }) as HTMLButtonElement).disabled).toBe(false);
    expect((screen.getByRole("button", { name: "Restart" }) as HTMLButtonElement).disabled).toBe(false);
    expect((screen.getByRole("button", { name: "Start" }) as HTMLButtonElement).disabled).toBe(true);
  });

  it("says why a budget stopped it, what the stopped pod still costs, and not that ComfyUI is ready", async () => {
    const why = "stopped by budget 'team': $5.01 spent of its $5.00 daily limit (2026-11-26)";
    serve(
      detail({
        state: "stopped",
        desired_state: "stopped",
        reason: why,
        pod: { ...detail().pod!, status: "EXITED", cost_per_hour: "0" },
        cost: { so_far_usd: "5.010000", per_hour_usd: "0.027397", metered_until: "2026-11-26T10:06:00Z", projections: { hour: "0.027397", day: "0.657534", week: "4.602740", month: "19.726027" } },
        history: [
          { state: "ready", at: "2026-11-26T08:00:30Z" },
          { state: "stopping", at: "2026-11-26T10:05:00Z", reason: why },
          { state: "stopped", at: "2026-11-26T10:05:05Z", reason: why },
        ],
        setup: [{ step: "ready", status: "done" }],
        links: { ...detail().links, comfyui: null },
      }),
    );
    renderWithClient(<DeploymentPage id="dep1" />);
    expect((await screen.findByTestId("detail-reason")).textContent).toBe(why.charAt(0).toUpperCase() + why.slice(1));
    expect(screen.getByTestId("detail-cost-rate").textContent).toBe("$0.027/h");
    expect(screen.getByText("storage while stopped")).toBeTruthy();
    const stopped = screen.getAllByTestId("timeline-entry").find((e) => e.dataset.state === "stopped")!;
    expect(stopped.textContent).toContain(why);
    const ready = screen.getAllByTestId("setup-step").find((r) => r.dataset.step === "ready")!;
    expect(ready.dataset.status).toBe("ended");
  });

  it("terminates only after confirmation", async () => {
    const user = userEvent.setup();
    serve(detail(), { state: "terminating", desired_state: "terminated" });
    renderWithClient(<DeploymentPage id="dep1" />);
    await user.click(await screen.findByRole("button", { name: "Terminate" }));
    const dialog = screen.getByRole("dialog");
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    await user.click(within(dialog).getByRole("button", { name: "Terminate pod" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(calls).toContainEqual({ method: "DELETE", url: "/api/v1/deployments/dep1" });
    await waitFor(() => expect(within(screen.getByTestId("detail-state")).getByTestId("state-badge").dataset.state).toBe("terminating"));
    expect((screen.getByRole("button", { name: "Terminate" }) as HTMLButtonElement).disabled).toBe(true);
  });

  it("Escape closes the terminate dialog without terminating", async () => {
    const user = userEvent.setup();
    serve(detail());
    renderWithClient(<DeploymentPage id="dep1" />);
    await user.click(await screen.findByRole("button", { name: "Terminate" }));
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
  });

  it("shows why a deployment failed, and offers Start to retry", async () => {
    serve(detail({ state: "failed", reason: "no RTX 4090 in stock", pod: null, links: { self: "", logs: "", events: "", comfyui: null } }));
    renderWithClient(<DeploymentPage id="dep1" />);
    expect((await screen.findByTestId("detail-reason")).textContent).toContain("no RTX 4090 in stock");
    expect((screen.getByRole("button", { name: "Start" }) as HTMLButtonElement).disabled).toBe(false);
    expect((screen.getByRole("button", { name: "Stop" }) as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole("button", { name: "Restart" }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.queryByRole("link", { name: /Open ComfyUI/ })).toBeNull();
  });
});
