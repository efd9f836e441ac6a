import { describe, expect, it } from "vitest";
import { ago, agoChangesIn, clockTime } from "./format";

describe("clockTime", () => {
  // Local dates, so the test holds in any time zone.
  const now = new Date(2026, 10, 26, 15, 0, 0).getTime();
  const earlyToday = new Date(2026, 10, 26, 9, 5, 7);
  const yesterday = new Date(2026, 10, 25, 23, 59, 1);

  it("is a 24-hour HH:MM:SS time", () => {
    expect(clockTime(earlyToday.toISOString(), { now })).toBe("09:05:07");
    expect(clockTime(new Date(2026, 10, 26, 21, 30, 0).getTime(), { now })).toBe("21:30:00");
  });

  it("adds the date only for another day when asked to", () => {
    expect(clockTime(earlyToday.toISOString(), { date: "unless-today", now })).toBe("09:05:07");
    expect(clockTime(yesterday.toISOString(), { date: "unless-today", now })).toBe("Nov 25, 23:59:01");
    expect(clockTime(yesterday.toISOString(), { now })).toBe("23:59:01");
    expect(clockTime(earlyToday, { date: "always", now })).toBe("Nov 26, 09:05:07");
    expect(clockTime(new Date(2025, 0, 2, 1, 2, 3), { date: "unless-today", now })).toBe("Jan 2, 2025, 01:02:03");
  });

  it("shows a dash for a missing or bad time", () => {
    expect(clockTime(null)).toBe("—");
    expect(clockTime("not a time")).toBe("—");
  });
});

describe("ago", () => {
  const now = Date.parse("2026-11-26T12:00:00Z");
  const before = (ms: number) => new Date(now - ms).toISOString();

  it.each([
    [0, "just now"],
    [-3_000, "just now"], // a moment ahead: the server's clock is not ours
    [9_999, "just now"],
    [10_000, "10 s ago"],
    [40_000, "40 s ago"],
    [59_999, "59 s ago"],
    [60_000, "1 min ago"],
    [119_000, "1 min ago"],
    [45 * 60_000, "45 min ago"],
    [3_600_000, "1 h ago"],
    [23.9 * 3_600_000, "23 h ago"],
    [2 * 86_400_000, "2 d ago"],
  ])("%i ms ago reads %s", (ms, text) => {
    expect(ago(before(ms), now)).toBe(text);
  });

  it("is a date after a week, and a dash without a time", () => {
    expect(ago(before(8 * 86_400_000), now)).toBe(new Date(now - 8 * 86_400_000).toLocaleDateString());
    expect(ago(null, now)).toBe("—");
    expect(ago("not a time", now)).toBe("—");
  });

  it("says when its words next change, so the page renders again then and only then", () => {
    expect(agoChangesIn(before(2_000), now)).toBe(8_000);
    expect(agoChangesIn(before(40_400), now)).toBe(600);
    expect(agoChangesIn(before(90_000), now)).toBe(30_000);
    expect(agoChangesIn(before(8 * 86_400_000), now)).toBeNull();
    for (const ms of [2_000, 40_400, 90_000, 5_400_000]) {
      const wait = agoChangesIn(before(ms), now)!;
      expect(ago(before(ms), now + wait - 1)).toBe(ago(before(ms), now));
      expect(ago(before(ms), now + wait)).not.toBe(ago(before(ms), now));
    }
  });
});
