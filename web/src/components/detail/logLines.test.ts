import { describe, expect, it } from "vitest";
import { MAX_LINES, mergeLines, parseProgress, splitMatches } from "./logLines";

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

describe("parseProgress", () => {
  const progress = (body: object, before = "") => `${before}##hangar-progress## ${JSON.stringify(body)}`;

  it("puts a running download in words", () => {
    const p = parseProgress(
      progress({ v: 1, step: "models", status: "running", bytes_done: 1_200_000_000, bytes_total: 7_300_000_000, speed_bps: 98_000_000, eta_s: 62.3, item: "a.safetensors", time: "2026-11-26T07:41:02.123Z" }),
    );
    expect(p?.text).toBe("setup · models · running · a.safetensors · 1.2 GB of 7.3 GB · 98.0 MB/s · 1m 02s left");
    expect(p?.body).toBe("models · running · a.safetensors · 1.2 GB of 7.3 GB · 98.0 MB/s · 1m 02s left");
  });

  it("keeps messages and errors, after a prefix such as a timestamp", () => {
    expect(parseProgress(progress({ v: 1, step: "start", status: "done", message: "ComfyUI answered after 2.4s", time: "t" }, "2026-11-26 ")))
      .toMatchObject({ step: "start", status: "done", text: "setup · start · done · ComfyUI answered after 2.4s" });
    expect(parseProgress(progress({ v: 1, step: "custom_nodes", status: "failed", item: "Foo", error: "git clone failed: 404", extra: [1] }))?.text)
      .toBe("setup · custom_nodes · failed · Foo · git clone failed: 404");
    expect(parseProgress(progress({ v: 1, step: "models", status: "done", bytes_total: 2_000_000 }))?.text).toBe("setup · models · done · 2.0 MB");
    expect(parseProgress(progress({ v: 1, step: "preflight", status: "done", bytes_total: 7_300_000_000, message: "ok" }))?.text).toBe("setup · preflight · done · 7.3 GB to download · ok");
    expect(parseProgress(progress({ v: 1, step: "preflight", status: "done", bytes_total: 0, message: "ok" }))?.text).toBe("setup · preflight · done · ok");
  });

  it("gives null for other lines, other versions, broken JSON and wrong types", () => {
    expect(parseProgress("[hangar] cloning ComfyUI")).toBeNull();
    expect(parseProgress(progress({ v: 2, step: "models", status: "done" }))).toBeNull();
    expect(parseProgress("##hangar-progress## {\"v\":1,")).toBeNull();
    expect(parseProgress(progress({ v: 1, step: "models", status: "running", bytes_done: "12" }))).toBeNull();
    expect(parseProgress(progress({ v: 1, step: 3, status: "done" }))).toBeNull();
    expect(parseProgress("##hangar-progress## [1]")).toBeNull();
  });
});
