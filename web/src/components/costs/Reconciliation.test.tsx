import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { report } from "./fixtures";
import { Reconciliation } from "./Reconciliation";
import { mockApi, problem, renderWithClient } from "./testing";

afterEach(() => vi.unstubAllGlobals());

describe("meter against RunPod billing", () => {
  it("says plainly when RunPod's billing cannot be read", async () => {
    mockApi({ "GET /api/v1/costs/reconciliation": problem(503, "upstream_unavailable", "RunPod /v2/billing/pods answered 502") });
    renderWithClient(<Reconciliation />);
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Billing unavailable");
    expect(alert.textContent).toContain("RunPod's billing could not be read");
    expect(alert.textContent).toContain("RunPod /v2/billing/pods answered 502");
    expect(screen.queryAllByTestId("reconciliation-row")).toHaveLength(0);
  });

  it("shows totals and highlights the hours that do not match", async () => {
    mockApi({ "GET /api/v1/costs/reconciliation": report });
    renderWithClient(<Reconciliation />);
    const rows = await screen.findAllByTestId("reconciliation-row");
    expect(rows.map((r) => r.dataset.status)).toEqual(["match", "mismatch", "pending"]);
    expect(rows[1]?.className).toContain("bg-rose");
    expect(rows[0]?.className ?? "").not.toContain("bg-rose");
    expect(rows[1]?.textContent).toContain("−$0.100");
    expect(screen.getByTestId("reconciliation-mismatches").textContent).toBe("1");
    expect(screen.getByTestId("reconciliation").textContent).toContain("$2.10");
  });

  it("filters to mismatches, and checks again on demand", async () => {
    const calls = mockApi({ "GET /api/v1/costs/reconciliation": report });
    renderWithClient(<Reconciliation />);
    await screen.findAllByTestId("reconciliation-row");
    await userEvent.click(screen.getByLabelText("Only mismatches"));
    expect(screen.getAllByTestId("reconciliation-row").map((r) => r.dataset.status)).toEqual(["mismatch"]);
    await userEvent.click(screen.getByRole("button", { name: "Check now" }));
    await waitFor(() => expect(calls.some((c) => c.query.get("refresh") === "true")).toBe(true));
  });

  it("shows a partial billing error above the rows it could read", async () => {
    mockApi({ "GET /api/v1/costs/reconciliation": { ...report, error: "network volume billing answered 500" } });
    renderWithClient(<Reconciliation />);
    expect((await screen.findByRole("alert")).textContent).toContain("network volume billing answered 500");
    expect(screen.getAllByTestId("reconciliation-row")).toHaveLength(3);
  });
});
