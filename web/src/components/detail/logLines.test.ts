import { describe, expect, it } from "vitest";
import { MAX_LINES, mergeLines, splitMatches } from "./logLines";

const line = (id: number) => ({ id, ts: "", source: "container", line: `line ${id}` });

describe("mergeLines", () => {
  it("appends new lines and skips the ones a reconnect replays", () => {
    const a = mergeLines([], [line(1), line(2), line(3)]);
    const b = mergeLines(a, [line(2), line(3), line(4)]);
    expect(b.map((l) => l.id)).toEqual([1, 2, 3, 4]);
    expect(mergeLines(b, [line(3), line(4)])).toBe(b);
  });

  it("keeps order when older lines arrive late, and keeps only the newest max", () => {
    const merged = mergeLines([line(5), line(9)], [line(7), line(10)], 3);
    expect(merged.map((l) => l.id)).toEqual([7, 9, 10]);
  });
});

describe("the line buffer", () => {
  it("holds 5,000 lines by default", () => {
    const many = Array.from({ length: 5100 }, (_, i) => line(i + 1));
    const kept = mergeLines([], many);
    expect(MAX_LINES).toBe(5000);
    expect(kept).toHaveLength(5000);
    expect(kept[0]!.id).toBe(101);
  });
});

describe("splitMatches", () => {
  it("splits around case-insensitive matches", () => {
    expect(splitMatches("Error: disk error", "error")).toEqual(["", "Error", ": disk ", "error", ""]);
    expect(splitMatches("nothing", "")).toEqual(["nothing"]);
  });
});
