/**
 * The log viewer's own EventSource on `GET /deployments/{id}/logs?follow=1`, open while the
 * viewer is (`active`: the deployment can still write lines). It is a log stream, not app
 * updates (those come from the app's one LiveProvider). A new `attempt` opens it again.
 *
 * The server starts every connection (the first and each automatic reconnect) by replaying the
 * newest `lines` lines, then new ones: the receiver deduplicates by id (see `mergeLines`), so a
 * reconnect loses nothing as long as fewer than `REPLAY_LINES` lines were written meanwhile.
 */
import { useEffect, useRef, useState } from "react";
import type { LogLineView } from "../../api/generated";

export const REPLAY_LINES = 500;
const FLUSH_MS = 100;

export type FollowStatus = "off" | "connecting" | "live" | "reconnecting" | "closed";

export function followUrl(deploymentId: string): string {
  return `/api/v1/deployments/${encodeURIComponent(deploymentId)}/logs?follow=1&lines=${REPLAY_LINES}`;
}

/** One `event: log` message as a line (`id:` is the line's id, `data:` its JSON), or null. */
export function parseLogEvent(event: MessageEvent<string>): LogLineView | null {
  const id = Number(event.lastEventId);
  if (!event.lastEventId || !Number.isFinite(id)) return null;
  try {
    const data = JSON.parse(event.data) as { ts?: unknown; source?: unknown; line?: unknown };
    return { id, ts: String(data.ts ?? ""), source: String(data.source ?? ""), line: String(data.line ?? "") };
  } catch {
    return null;
  }
}

export function useLogFollow(deploymentId: string, active: boolean, onLines: (lines: LogLineView[]) => void, attempt = 0): FollowStatus {
  const [status, setStatus] = useState<FollowStatus>("off");
  const onLinesRef = useRef(onLines);
  onLinesRef.current = onLines;

  useEffect(() => {
    if (!active) {
      setStatus("off");
      return;
    }
    setStatus("connecting");
    const source = new EventSource(followUrl(deploymentId));
    // Lines arrive in bursts (a replay is hundreds): hand them over in batches, one render each.
    let buffer: LogLineView[] = [];
    let timer: ReturnType<typeof setTimeout> | null = null;
    const flush = () => {
      timer = null;
      if (buffer.length === 0) return;
      const batch = buffer;
      buffer = [];
      onLinesRef.current(batch);
    };
    source.addEventListener("log", (event) => {
      const line = parseLogEvent(event as MessageEvent<string>);
      if (!line) return;
      buffer.push(line);
      timer ??= setTimeout(flush, FLUSH_MS);
    });
    source.onopen = () => setStatus("live");
    // The browser reconnects by itself unless the answer was not a stream (then it is CLOSED).
    source.onerror = () => setStatus(source.readyState === 2 ? "closed" : "reconnecting");
    return () => {
      source.close();
      if (timer) clearTimeout(timer);
      flush();
    };
  }, [deploymentId, active, attempt]);

  return status;
}
