import { screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { bucket, history } from "./fixtures";
import { DayChart, SpendByDay, niceMax } from "./SpendByDay";
import { mockApi, renderWithClient } from "./testing";

afterEach(() => vi.unstubAllGlobals());

describe("spend by day chart", () => {
  it("draws one bar per bucket, each titled with its day and amounts", () => {
    const data = history([bucket("2026-11-05", 2, 0.5), bucket("2026-11-06", 0, 0), bucket("2026-11-07", 1.25, 0.1, false)]);
    renderWithClient(<DayChart history={data} />);
    const bars = screen.getAllByTestId("day-bar");
    expect(bars).toHaveLength(3);
    const titles = bars.map((bar) => bar.querySelector("title")?.textContent);
    expect(titles).toEqual([
      "Thu, Nov 5: $2.50 (GPU $2.00, storage $0.500)",
      "Fri, Nov 6: $0.000 (GPU $0.000, storage $0.000)",
      "Sat, Nov 7: $1.35 (so far) (GPU $1.25, storage $0.100)",
    ]);
  });

  it("scales bars to the tallest day, GPU under storage", () => {
    const data = history([bucket("2026-11-05", 3, 1), bucket("2026-11-06", 1, 0)]);
    renderWithClient(<DayChart history={data} />);
    const [first, second] = screen.getAllByTestId("day-bar");
    // top of the axis is $5 (niceMax of 4): GPU $3 is 60 units of 100 tall, storage $1 is 20.
    const rects = (bar: HTMLElement | undefined) => [...(bar?.querySelectorAll("rect") ?? [])].slice(1).map((r) => Number(r.getAttribute("height")));
    expect(rects(first)).toEqual([60, 20]);
    expect(rects(second)).toEqual([20, 0]);
  });

  it("repeats the figures in a table for screen readers", () => {
    renderWithClient(<DayChart history={history([bucket("2026-11-05", 2, 0.5)])} />);
    const table = screen.getByRole("table", { name: "Spend per UTC day" });
    expect(table.textContent).toContain("Thu, Nov 5");
    expect(table.textContent).toContain("$2.50");
  });

  it("asks for day buckets from the range start and says when nothing was spent", async () => {
    const calls = mockApi({ "GET /api/v1/costs/history": history([bucket("2026-11-06", 0, 0), bucket("2026-11-07", 0, 0)]) });
    renderWithClient(<SpendByDay days={7} start="2026-11-01T00:00:00Z" />);
    expect(await screen.findByText("No spend yet")).toBeTruthy();
    expect(calls[0]?.query.get("bucket")).toBe("day");
    expect(calls[0]?.query.get("start")).toBe("2026-11-01T00:00:00Z");
    expect(screen.queryAllByTestId("day-bar")).toHaveLength(0);
  });

  it("shows its own error", async () => {
    mockApi({ "GET /api/v1/costs/history": { status: 500, body: { code: "internal", detail: "database is locked" } } });
    renderWithClient(<SpendByDay days={30} start="2026-10-09T00:00:00Z" />);
    await waitFor(() => expect(screen.getByRole("alert").textContent).toContain("database is locked"));
  });

  it("rounds the axis up to 1, 2, 2.5 or 5 times a power of ten", () => {
    expect(niceMax(4)).toBe(5);
    expect(niceMax(13.2)).toBe(20);
    expect(niceMax(0.21)).toBe(0.25);
    expect(niceMax(0)).toBe(1);
  });
});
