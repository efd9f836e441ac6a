import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CostsPage } from "../../pages/CostsPage";
import { bucket, budget, byDeployment, history, report, summary } from "./fixtures";
import { exportUrl, rangeStart } from "./range";
import { mockApi, problem, renderWithClient } from "./testing";

afterEach(() => vi.unstubAllGlobals());

function api(overrides: Record<string, unknown> = {}) {
  return mockApi({
    "GET /api/v1/costs/summary": summary,
    "GET /api/v1/costs/history": history([bucket("2026-11-06", 1, 0.1), bucket("2026-11-07", 2, 0.2)]),
    "GET /api/v1/costs/by-deployment": byDeployment,
    "GET /api/v1/costs/by-gpu": problem(500, "internal", "by-gpu broke"),
    "GET /api/v1/costs/reconciliation": report,
    "GET /api/v1/budgets": { budgets: [budget()] },
    "GET /api/v1/deployments": { deployments: [] },
    ...overrides,
  });
}

describe("costs page", () => {
  it("starts a range at a UTC midnight, today included", () => {
    const now = new Date("2026-11-07T15:30:00Z");
    expect(rangeStart(7, now)).toBe("2026-11-01T00:00:00Z");
    expect(rangeStart(30, now)).toBe("2026-10-09T00:00:00Z");
    expect(exportUrl("2026-11-01T00:00:00Z")).toBe("/api/v1/costs/export.csv?start=2026-11-01T00%3A00%3A00Z");
  });

  it("exports CSV over the chosen range, and asks every section for that range", async () => {
    const calls = api();
    renderWithClient(<CostsPage />);
    const link = screen.getByRole("link", { name: "Export CSV" });
    expect(link.getAttribute("href")).toBe(exportUrl(rangeStart(30)));
    expect(link.hasAttribute("download")).toBe(true);

    await userEvent.click(screen.getByRole("button", { name: "7 days" }));
    expect(screen.getByRole("button", { name: "7 days" }).getAttribute("aria-pressed")).toBe("true");
    const start7 = rangeStart(7);
    expect(link.getAttribute("href")).toBe(`/api/v1/costs/export.csv?start=${encodeURIComponent(start7)}`);
    await waitFor(() => {
      for (const path of ["/api/v1/costs/history", "/api/v1/costs/by-deployment", "/api/v1/costs/by-gpu"]) {
        expect(calls.some((c) => c.path === path && c.query.get("start") === start7)).toBe(true);
      }
    });
  });

  it("keeps every other section when one fails", async () => {
    api();
    renderWithClient(<CostsPage />);
    await waitFor(() => expect(screen.getByTestId("by-gpu").textContent).toContain("by-gpu broke"));
    expect(await screen.findAllByTestId("by-deployment-row")).toHaveLength(3);
    expect(screen.getByTestId("costs-spent-today").textContent).toBe("$3.21");
    expect(screen.getByTestId("costs-burn-rate").textContent).toBe("$0.690/h");
    expect(screen.getAllByTestId("day-bar")).toHaveLength(2);
    expect(screen.getAllByTestId("budget")).toHaveLength(1);
    expect(screen.getAllByTestId("reconciliation-row")).toHaveLength(3);
  });

  it("holds the summary's place with skeletons while it loads", () => {
    vi.stubGlobal("fetch", vi.fn(() => new Promise(() => undefined)));
    renderWithClient(<CostsPage />);
    expect(screen.getByTestId("costs-spent-today").querySelector(".animate-pulse")).not.toBeNull();
    expect(screen.getByTestId("spend-by-day").querySelector(".animate-pulse")).not.toBeNull();
  });
});
