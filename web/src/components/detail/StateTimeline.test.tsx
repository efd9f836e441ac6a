import { act, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { StateTimeline } from "./StateTimeline";

afterEach(() => vi.useRealTimers());

describe("StateTimeline", () => {
  it("lists every state change, newest first, with how long it lasted and why", () => {
    const now = Date.parse("2026-11-26T08:10:00Z");
    render(
      <StateTimeline
        now={now}
        history={[
          { state: "pending", at: "2026-11-26T08:00:00Z" },
          { state: "creating", at: "2026-11-26T08:00:05Z" },
          { state: "failed", at: "2026-11-26T08:02:05Z", reason: "no RTX 4090 in stock in SECURE" },
        ]}
      />,
    );
    const entries = within(screen.getByTestId("timeline")).getAllByTestId("timeline-entry");
    expect(entries.map((e) => e.dataset.state)).toEqual(["failed", "creating", "pending"]);
    expect(within(entries[0]!).getByText("no RTX 4090 in stock in SECURE")).toBeTruthy();
    expect(entries[1]!.textContent).toContain("for 2m 00s");
    expect(entries[2]!.textContent).toContain("for 5s");
  });

  it("shows 24-hour times, with the date only for another day than today", () => {
    const now = new Date(2026, 10, 26, 15, 0, 0).getTime();
    render(
      <StateTimeline
        now={now}
        history={[
          { state: "creating", at: new Date(2026, 10, 25, 22, 4, 5).toISOString() },
          { state: "ready", at: new Date(2026, 10, 26, 13, 7, 9).toISOString() },
        ]}
      />,
    );
    const [ready, creating] = within(screen.getByTestId("timeline")).getAllByTestId("timeline-entry");
    expect(ready!.querySelector("time")!.textContent).toBe("13:07:09");
    expect(creating!.querySelector("time")!.textContent).toBe("Nov 25, 22:04:05");
  });

  it("says how long ago the current state began, and keeps it right as time passes", () => {
    vi.useFakeTimers();
    const at = "2026-11-26T08:00:00Z";
    vi.setSystemTime(Date.parse(at) + 40_000); // an event 40 s old is not "just now"
    render(<StateTimeline now={Date.now()} history={[{ state: "ready", at }]} />);
    const entry = screen.getByTestId("timeline-entry");
    expect(entry.textContent).toContain("entered 40 s ago");
    const pass = (seconds: number) => {
      for (let i = 0; i < seconds; i += 1) act(() => vi.advanceTimersByTime(1_000));
    };
    pass(5);
    expect(entry.textContent).toContain("entered 45 s ago");
    pass(15);
    expect(entry.textContent).toContain("entered 1 min ago");
  });

  it("says so when there is no history yet", () => {
    render(<StateTimeline now={0} history={[]} />);
    expect(screen.getByTestId("timeline").textContent).toContain("No state changes yet");
    expect(screen.queryAllByTestId("timeline-entry")).toHaveLength(0);
  });
});
