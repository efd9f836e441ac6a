/** The log viewer's line buffer: ordered by id, no id twice, at most `MAX_LINES`. */
import type { LogLineView } from "../../api/generated";

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
