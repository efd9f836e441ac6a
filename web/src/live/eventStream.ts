/**
 * One Server-Sent Events connection to `/api/v1/events` for the whole app.
 *
 * The browser's own EventSource retry is not used: on any error the source is closed and a new
 * one opened after a backoff that doubles from 1 s to 30 s (with jitter) and resets once a
 * connection opens. A reconnect asks for `?after=<last id seen>`, so the server replays exactly
 * what was missed; events are also de-duplicated by id, so nothing is applied twice.
 */

import { EventTypeValues, type HangarEvent } from "../api/generated";

/** One event as the server sends it: its `type` says which `data` it carries (generated from
 * the server's vocabulary, `schemas/events.py`). */
export type { HangarEvent };

export type ConnectionState = "connecting" | "open" | "reconnecting";

/** Every event type the server sends (the `event:` line of each SSE message), as its OpenAPI
 * document lists them: a type added to the server is heard here once the client is regenerated. */
export const EVENT_TYPES = EventTypeValues;

interface SourceLike {
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void;
  onopen: ((this: SourceLike, ev: Event) => unknown) | null;
  onerror: ((this: SourceLike, ev: Event) => unknown) | null;
  close(): void;
}

export interface EventStreamOptions {
  url?: string;
  onEvent: (event: HangarEvent) => void;
  onState?: (state: ConnectionState, retryInMs?: number) => void;
  /** Called each time a connection opens; `resumed` is false for the very first one. */
  onOpen?: (resumed: boolean) => void;
  createSource?: (url: string) => SourceLike;
  minDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  schedule?: (fn: () => void, ms: number) => unknown;
  cancel?: (handle: unknown) => void;
}

/** The delay before reconnect attempt `attempt` (0-based): 1 s, 2 s, 4 s ... capped, with up to 20 % jitter. */
export function backoffDelay(attempt: number, minMs = 1000, maxMs = 30000, random = Math.random): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 16));
  return Math.round(Math.min(maxMs, base * (0.8 + 0.2 * random())));
}

export class EventStream {
  lastId: number | null = null;
  private source: SourceLike | null = null;
  private attempt = 0;
  private opened = false;
  private timer: unknown = null;
  private stopped = true;
  private readonly options: Required<Omit<EventStreamOptions, "onState" | "onOpen">> &
    Pick<EventStreamOptions, "onState" | "onOpen">;

  constructor(options: EventStreamOptions) {
    // Options given as `undefined` keep their defaults (a spread would overwrite them).
    this.options = {
      ...options,
      url: options.url ?? "/api/v1/events",
      createSource: options.createSource ?? ((url) => new EventSource(url) as unknown as SourceLike),
      minDelayMs: options.minDelayMs ?? 1000,
      maxDelayMs: options.maxDelayMs ?? 30000,
      random: options.random ?? Math.random,
      schedule: options.schedule ?? ((fn, ms) => setTimeout(fn, ms)),
      cancel: options.cancel ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>)),
    };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.options.cancel(this.timer);
    this.timer = null;
    this.source?.close();
    this.source = null;
  }

  private connect(): void {
    this.timer = null;
    const url = this.lastId === null ? this.options.url : `${this.options.url}?after=${this.lastId}`;
    this.options.onState?.(this.attempt === 0 && !this.opened ? "connecting" : "reconnecting");
    const source = this.options.createSource(url);
    this.source = source;
    source.onopen = () => {
      if (this.source !== source) return;
      const resumed = this.opened;
      this.opened = true;
      this.attempt = 0;
      this.options.onState?.("open");
      this.options.onOpen?.(resumed);
    };
    source.onerror = () => {
      if (this.source !== source) return;
      source.close();
      this.source = null;
      if (this.stopped) return;
      const delay = backoffDelay(this.attempt, this.options.minDelayMs, this.options.maxDelayMs, this.options.random);
      this.attempt += 1;
      this.options.onState?.("reconnecting", delay);
      this.timer = this.options.schedule(() => this.connect(), delay);
    };
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (message) => {
        if (this.source !== source) return;
        this.receive(message);
      });
    }
  }

  private receive(message: MessageEvent<string>): void {
    let event: HangarEvent;
    try {
      event = JSON.parse(message.data) as HangarEvent;
    } catch {
      return;
    }
    if (this.lastId !== null && event.id <= this.lastId) return; // already applied
    this.lastId = event.id;
    this.options.onEvent(event);
  }
}
