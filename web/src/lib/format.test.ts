import { describe, expect, it } from "vitest";
import { clockTime } from "./format";

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
