/** The log viewer's line buffer: ordered by id, no id twice, at most `MAX_LINES`. */
import type { LogLineView } from "../../api/generated";
import { bytes, duration } from "../../lib/format";

export const MAX_LINES = 5000;

function has(lines: LogLineView[], id: number): boolean {
  let lo = 0;
  let hi = lines.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const at = lines[mid]!.id;
    if (at === id) return true;
    if (at < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/**
 * `existing` plus the lines of `incoming` it lacks, ordered by id, trimmed to the newest `max`.
 * The same array comes back when nothing is new (so React skips the render). The follow stream
 * replays recent lines on every (re)connect: that is what this deduplicates.
 */
export function mergeLines(existing: LogLineView[], incoming: LogLineView[], max = MAX_LINES): LogLineView[] {
  const lastId = existing.length > 0 ? existing[existing.length - 1]!.id : -Infinity;
  const fresh = incoming.filter((line) => Number.isFinite(line.id) && (line.id > lastId || !has(existing, line.id)));
  if (fresh.length === 0) return existing;
  let merged: LogLineView[];
  let previous = lastId;
  const inOrder = fresh.every((line) => {
    const ok = line.id > previous;
    previous = line.id;
    return ok;
  });
  if (inOrder) {
    merged = existing.concat(fresh);
  } else {
    const byId = new Map<number, LogLineView>();
    for (const line of existing) byId.set(line.id, line);
    for (const line of fresh) byId.set(line.id, line);
    merged = [...byId.values()].sort((a, b) => a.id - b.id);
  }
  return merged.length > max ? merged.slice(merged.length - max) : merged;
}

/** The parts of `text` split around case-insensitive matches of `query` (odd indexes match). */
export function splitMatches(text: string, query: string): string[] {
  if (!query) return [text];
  // Case-insensitive unless lower-casing changes the length (then indexes would not line up).
  const folded = text.toLowerCase();
  const same = folded.length === text.length;
  const lower = same ? folded : text;
  const needle = same ? query.toLowerCase() : query;
  const parts: string[] = [];
  let from = 0;
  for (let at = lower.indexOf(needle); at !== -1; at = lower.indexOf(needle, from)) {
    parts.push(text.slice(from, at), text.slice(at, at + needle.length));
    from = at + needle.length;
  }
  parts.push(text.slice(from));
  return parts;
}

const PROGRESS_PREFIX = "##hangar-progress## ";

/** An agent progress line (docs/agent-progress-protocol.md) in human words. */
export interface ProgressLine {
  step: string;
  status: string;
  /** What follows step and status: item, bytes, speed, time left, message, error. */
  details: string[];
  /** `step · status · details…`: what is shown after a small "setup" tag. */
  body: string;
  /** `setup · ` + body: what search matches (as well as the raw line). */
  text: string;
}

const isCount = (v: unknown) => v === undefined || (typeof v === "number" && Number.isFinite(v) && v >= 0);
const isText = (v: unknown) => v === undefined || typeof v === "string";

function words(seconds: number): string {
  return seconds < 60 ? `${Math.round(seconds * 10) / 10}s` : duration(seconds);
}

/**
 * The progress line in `line` (the prefix may follow other text), or null when there is none or
 * it is not valid version 1 (then the raw line is shown). Unknown fields are ignored.
 */
export function parseProgress(line: string): ProgressLine | null {
  const at = line.indexOf(PROGRESS_PREFIX);
  if (at === -1) return null;
  let body: unknown;
  try {
    body = JSON.parse(line.slice(at + PROGRESS_PREFIX.length));
  } catch {
    return null;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
  const b = body as Record<string, unknown>;
  if (b.v !== 1 || typeof b.step !== "string" || typeof b.status !== "string" || !b.step || !b.status) return null;
  if (![b.item, b.message, b.error].every(isText)) return null;
  if (![b.bytes_done, b.bytes_total, b.speed_bps, b.eta_s, b.items_total].every(isCount)) return null;
  const details: string[] = [];
  if (b.item) details.push(b.item as string);
  const done = b.bytes_done as number | undefined;
  const total = b.bytes_total as number | undefined;
  if (b.step === "preflight") {
    // There the bytes are what is still to download.
    if (total) details.push(`${bytes(total)} to download`);
  } else if (done !== undefined && total !== undefined && b.status === "running") details.push(`${bytes(done)} of ${bytes(total)}`);
  else if (total !== undefined) details.push(bytes(total));
  else if (done !== undefined) details.push(bytes(done));
  if (b.status === "running" && b.speed_bps) details.push(`${bytes(b.speed_bps as number)}/s`);
  if (b.status === "running" && b.eta_s !== undefined) details.push(`${words(b.eta_s as number)} left`);
  if (b.items_total !== undefined && !b.item) details.push(`${b.items_total as number} item${b.items_total === 1 ? "" : "s"}`);
  if (b.message) details.push(b.message as string);
  if (b.error) details.push(b.error as string);
  const step = b.step;
  const status = b.status;
  const shown = [step, status, ...details].join(" · ");
  return { step, status, details, body: shown, text: `setup · ${shown}` };
}

const parsed = new WeakMap<LogLineView, ProgressLine | null>();

/** `parseProgress` of a buffered line, parsed once per line object. */
export function progressOf(line: LogLineView): ProgressLine | null {
  let result = parsed.get(line);
  if (result === undefined) {
    result = line.line.includes(PROGRESS_PREFIX) ? parseProgress(line.line) : null;
    parsed.set(line, result);
  }
  return result;
}

/** Whether a line matches a (lower-case) search: its raw text, or the words a progress line is shown as. */
export function lineMatches(line: LogLineView, needle: string): boolean {
  if (line.line.toLowerCase().includes(needle)) return true;
  const progress = progressOf(line);
  return progress !== null && progress.text.toLowerCase().includes(needle);
}
