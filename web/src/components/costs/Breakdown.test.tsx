import { screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ByDeployment, ByGpu } from "./Breakdown";
import { byDeployment, byGpu } from "./fixtures";
import { mockApi, renderWithClient } from "./testing";

afterEach(() => vi.unstubAllGlobals());

describe("spend by deployment and by GPU", () => {
  it("lists deployments most expensive first, with their share of the total", async () => {
    const calls = mockApi({ "GET /api/v1/costs/by-deployment": byDeployment });
    renderWithClient(<ByDeployment days={7} start="2026-11-01T00:00:00Z" />);
    const rows = await screen.findAllByTestId("by-deployment-row");
    expect(rows.map((row) => row.querySelector("td")?.textContent)).toEqual(["big-one", "Deleted deployment", "small-one"]);
    expect(rows[0]?.textContent).toContain("$12.00");
    expect(rows[0]?.textContent).toContain("75%");
    expect(within(rows[0]!).getByRole("link", { name: "big-one" }).getAttribute("href")).toBe("/deployments/big");
    expect(calls[0]?.query.get("start")).toBe("2026-11-01T00:00:00Z");
    expect(screen.getByTestId("by-deployment").querySelector("tfoot")?.textContent).toContain("$16.00");
  });

  it("lists GPU types most expensive first, with GPU-hours", async () => {
    mockApi({ "GET /api/v1/costs/by-gpu": byGpu });
    renderWithClient(<ByGpu days={7} start="2026-11-01T00:00:00Z" />);
    const rows = await screen.findAllByTestId("by-gpu-row");
    expect(rows.map((row) => row.querySelector("td")?.textContent)).toEqual(["NVIDIA GeForce RTX 4090", "NVIDIA RTX A4000"]);
    expect(rows[0]?.textContent).toContain("20 h");
    expect(rows[0]?.textContent).toContain("88%");
  });

  it("says so when nothing was spent in the range", async () => {
    mockApi({
      "GET /api/v1/costs/by-deployment": { ...byDeployment, deployments: [], totals: { total_usd: "0", gpu_usd: "0", storage_usd: "0", network_volume_usd: "0" } },
    });
    renderWithClient(<ByDeployment days={30} start="2026-10-09T00:00:00Z" />);
    expect(await screen.findByText("No spend yet")).toBeTruthy();
    expect(screen.queryAllByTestId("by-deployment-row")).toHaveLength(0);
  });

  it("counts network volumes in the total on their own row", async () => {
    mockApi({
      "GET /api/v1/costs/by-deployment": {
        ...byDeployment,
        deployments: [byDeployment.deployments[1]],
        totals: { total_usd: "16.000000", gpu_usd: "11.000000", storage_usd: "5.000000", network_volume_usd: "4.000000" },
      },
    });
    renderWithClient(<ByDeployment days={30} start="2026-10-09T00:00:00Z" />);
    const row = (await screen.findByText("Network volumes")).closest("tr");
    expect(row?.textContent).toContain("$4.00");
    expect(row?.textContent).toContain("25%");
  });
});
