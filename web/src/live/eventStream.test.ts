import { describe, expect, it } from "vitest";
import { EventTypeValues } from "../api/generated";
import { backoffDelay, EventStream, type HangarEvent } from "./eventStream";

class FakeSource {
  static all: FakeSource[] = [];
  listeners = new Map<string, (e: MessageEvent<string>) => void>();
  onopen: ((ev: Event) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeSource.all.push(this);
  }
  addEventListener(type: string, listener: (e: MessageEvent<string>) => void) {
    this.listeners.set(type, listener);
  }
  close() {
    this.closed = true;
  }
  open() {
    this.onopen?.(new Event("open"));
  }
  fail() {
    this.onerror?.(new Event("error"));
  }
  emit(id: number, type: HangarEvent["type"] = "deployment_state") {
    const body = { id, type, time: "", deployment_id: "d1", pod_id: null, data: {} } as HangarEvent;
    this.listeners.get(type)?.(new MessageEvent(type, { data: JSON.stringify(body) }));
  }
}

function harness() {
  FakeSource.all = [];
  const seen: number[] = [];
  const delays: number[] = [];
  const pending: (() => void)[] = [];
  const stream = new EventStream({
    onEvent: (e) => seen.push(e.id),
    createSource: (url) => new FakeSource(url),
    random: () => 1,
    schedule: (fn, ms) => {
      delays.push(ms);
      pending.push(fn);
      return pending.length;
    },
    cancel: () => undefined,
  });
  return { stream, seen, delays, fireNext: () => pending.shift()?.() };
}

describe("backoffDelay", () => {
  it("doubles from 1 s and stops at 30 s", () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, 1000, 30000, () => 1))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000,
    ]);
  });
});

describe("EventStream", () => {
  it("hears every type the server documents, pod_adopted included", () => {
    const { stream, seen } = harness();
    stream.start();
    const source = FakeSource.all[0]!;
    source.open();
    expect([...source.listeners.keys()].sort()).toEqual([...EventTypeValues].sort());
    source.emit(1, "pod_adopted");
    expect(seen).toEqual([1]);
  });

  it("resumes after the last event it saw and never applies one twice", () => {
    const { stream, seen, fireNext } = harness();
    stream.start();
    const first = FakeSource.all[0]!;
    expect(first.url).toBe("/api/v1/events");
    first.open();
    first.emit(5);
    first.emit(6);
    first.fail();
    expect(first.closed).toBe(true);
    fireNext();
    const second = FakeSource.all[1]!;
    expect(second.url).toBe("/api/v1/events?after=6");
    second.open();
    second.emit(6); // replayed by mistake: ignored
    second.emit(7);
    expect(seen).toEqual([5, 6, 7]);
  });

  it("backs off while the server is down and resets once connected", () => {
    const { stream, delays, fireNext } = harness();
    stream.start();
    for (let i = 0; i < 7; i++) {
      FakeSource.all.at(-1)!.fail();
      fireNext();
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    FakeSource.all.at(-1)!.open();
    FakeSource.all.at(-1)!.fail();
    expect(delays.at(-1)).toBe(1000);
  });

  it("uses the default URL when given url: undefined", () => {
    FakeSource.all = [];
    new EventStream({ url: undefined, onEvent: () => undefined, createSource: (u) => new FakeSource(u) }).start();
    expect(FakeSource.all[0]!.url).toBe("/api/v1/events");
  });

  it("stops for good", () => {
    const { stream, delays } = harness();
    stream.start();
    stream.stop();
    expect(FakeSource.all[0]!.closed).toBe(true);
    expect(delays).toEqual([]);
  });
});
