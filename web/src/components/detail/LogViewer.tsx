/**
 * The pod log: the newest lines, and every new one as it is written while the viewer is open;
 * Follow keeps the newest line in view (auto-scroll), a search box filters and highlights.
 * Lines are rendered as text, never as HTML.
 */
import { useQuery } from "@tanstack/react-query";
import { memo, useCallback, useDeferredValue, useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from "react";
import { deploymentLogs, type LogLineView } from "../../api/generated";
import { clockTime } from "../../lib/format";
import { Button, ErrorState, Skeleton } from "../ui";
import { lineMatches, MAX_LINES, mergeLines, progressOf, splitMatches } from "./logLines";
import { useLogFollow, type FollowStatus } from "./useLogFollow";

export const TAIL_LINES = 500;
/** Within this many pixels of the bottom counts as "at the bottom" (keeps auto-scrolling). */
const BOTTOM_SLACK_PX = 24;

export const logTailKey = (id: string) => ["deployment-logs", id] as const;

const STATUS_TEXT: Record<FollowStatus, string> = {
  off: "",
  connecting: "Connecting…",
  live: "Streaming",
  reconnecting: "Reconnecting…",
  closed: "Stream closed",
};
const STATUS_DOT: Record<FollowStatus, string> = {
  off: "",
  connecting: "bg-slate-400 animate-pulse",
  live: "bg-emerald-400",
  reconnecting: "bg-amber-400 animate-pulse",
  closed: "bg-rose-400",
};

function clock(ts: string): string {
  return Number.isFinite(Date.parse(ts)) ? clockTime(ts) : "";
}

const LogLine = memo(function LogLine({ line, query }: { line: LogLineView; query: string }) {
  // Agent progress lines are shown in words, muted, after a "setup" tag; the raw line is the tooltip.
  const progress = progressOf(line);
  const parts = splitMatches(progress ? progress.body : line.line, query);
  return (
    <div
      data-testid="log-line"
      data-id={line.id}
      data-progress={progress ? "" : undefined}
      title={progress ? line.line : undefined}
      className="flex gap-2 px-3 py-px hover:bg-slate-900 sm:gap-3"
    >
      <span className="shrink-0 select-none text-slate-600" title={line.ts}>
        {clock(line.ts)}
      </span>
      {line.source && <span className={`hidden shrink-0 select-none sm:inline ${line.source === "system" ? "text-amber-400/80" : "text-sky-400/70"}`}>{line.source}</span>}
      {progress && (
        <span className="mt-px h-4 shrink-0 select-none self-start rounded bg-indigo-500/15 px-1 font-sans text-[0.625rem] font-medium uppercase leading-4 tracking-wide text-indigo-300/90">
          setup
        </span>
      )}
      <span
        className={`min-w-0 whitespace-pre-wrap [overflow-wrap:anywhere] ${
          progress ? (progress.status === "failed" ? "text-rose-300/80" : "text-slate-400") : "text-slate-200"
        }`}
      >
        {parts.map((part, i) =>
          i % 2 === 1 ? (
            <mark key={i} className="rounded-sm bg-amber-300 text-slate-950">
              {part}
            </mark>
          ) : (
            part
          ),
        )}
      </span>
    </div>
  );
});

export function LogViewer({
  deploymentId,
  ended = false,
  maxLines = MAX_LINES,
}: {
  deploymentId: string;
  /** The deployment is terminated: no new line will come. */
  ended?: boolean;
  maxLines?: number;
}) {
  const tail = useQuery({
    queryKey: logTailKey(deploymentId),
    queryFn: ({ signal }) => deploymentLogs(deploymentId, { lines: TAIL_LINES }, { signal }),
    staleTime: Infinity,
  });
  const [lines, setLines] = useState<LogLineView[]>([]);
  const [following, setFollowing] = useState(true);
  const [attempt, setAttempt] = useState(0);
  const [search, setSearch] = useState("");
  const query = useDeferredValue(search.trim());
  const searchId = useId();

  useEffect(() => {
    if (tail.data) setLines((current) => mergeLines(current, tail.data.lines, maxLines));
  }, [tail.data, maxLines]);

  const append = useCallback((fresh: LogLineView[]) => setLines((current) => mergeLines(current, fresh, maxLines)), [maxLines]);
  // New lines stream in whenever the viewer is open; Follow only decides the scrolling.
  const status = useLogFollow(deploymentId, !ended, append, attempt);

  const visible = useMemo(() => {
    if (!query) return lines;
    const needle = query.toLowerCase();
    return lines.filter((line) => lineMatches(line, needle));
  }, [lines, query]);

  // Keep the newest line in view while following, unless the user scrolled up to read.
  const box = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const [scrolledUp, setScrolledUp] = useState(false);
  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight <= BOTTOM_SLACK_PX;
    atBottom.current = bottom;
    setScrolledUp(!bottom);
  };
  const toBottom = useCallback(() => {
    const el = box.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
    atBottom.current = true;
    setScrolledUp(false);
  }, []);
  const loaded = tail.isSuccess;
  useLayoutEffect(() => {
    if (loaded) toBottom(); // open on the newest lines
  }, [loaded, toBottom]);
  useLayoutEffect(() => {
    if (following && atBottom.current) toBottom();
  }, [visible, following, toBottom]);
  useLayoutEffect(() => {
    if (following) toBottom();
  }, [following, toBottom]);

  const total = lines.length;
  return (
    <div className="flex flex-col">
      <div className="flex flex-wrap items-center gap-2 border-b border-slate-800 px-4 py-3">
        <h2 className="mr-auto text-base font-semibold text-white">Logs</h2>
        {status !== "off" && (
          <span role="status" className="inline-flex items-center gap-1.5 text-xs text-slate-400" data-testid="log-follow-status" data-status={status}>
            <span className={`h-2 w-2 rounded-full ${STATUS_DOT[status]}`} aria-hidden />
            {STATUS_TEXT[status]}
          </span>
        )}
        <label htmlFor={searchId} className="sr-only">
          Search logs
        </label>
        <input
          id={searchId}
          type="search"
          value={search}
          onChange={(event) => setSearch(event.target.value)}
          placeholder="Search logs"
          autoComplete="off"
          spellCheck={false}
          className="w-full rounded-md bg-slate-950 px-3 py-1.5 text-sm text-slate-100 ring-1 ring-slate-700 placeholder:text-slate-500 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-400 sm:w-48"
        />
        <Button
          size="sm"
          variant={following ? "primary" : "secondary"}
          aria-pressed={following}
          onClick={() => setFollowing((on) => !on)}
          title={following ? "Stop scrolling to new lines (they still appear)" : "Keep the newest line in view"}
        >
          <span className={`h-1.5 w-1.5 rounded-full ${following ? "bg-slate-950" : "bg-slate-500"}`} aria-hidden />
          Follow
        </Button>
        {status === "closed" && (
          <Button size="sm" variant="ghost" onClick={() => setAttempt((n) => n + 1)}>
            Reconnect
          </Button>
        )}
      </div>
      <div className="relative">
        <div
          ref={box}
          onScroll={onScroll}
          data-testid="log-viewer"
          role="log"
          aria-label="Pod log"
          aria-live="off"
          tabIndex={0}
          className="h-[26rem] overflow-y-auto bg-slate-950 py-2 font-mono text-xs leading-5 focus-visible:outline-2 focus-visible:outline-offset-[-2px] focus-visible:outline-sky-400 lg:h-[32rem]"
        >
          {tail.isPending && total === 0 ? (
            <div className="space-y-2 px-3" aria-label="Loading log">
              {Array.from({ length: 8 }, (_, i) => (
                <Skeleton key={i} className={`h-3 ${i % 3 === 0 ? "w-2/3" : i % 3 === 1 ? "w-5/6" : "w-1/2"}`} />
              ))}
            </div>
          ) : tail.isError && total === 0 ? (
            <div className="p-3">
              <ErrorState error={tail.error} title="Could not load the log" onRetry={() => void tail.refetch()} />
            </div>
          ) : total === 0 ? (
            <p className="px-3 py-6 text-center font-sans text-sm text-slate-500">
              {ended ? "This deployment left no log lines." : "No log lines yet. They appear here as the pod writes them."}
            </p>
          ) : visible.length === 0 ? (
            <p className="px-3 py-6 text-center font-sans text-sm text-slate-500">No line matches “{query}”.</p>
          ) : (
            visible.map((line) => <LogLine key={line.id} line={line} query={query} />)
          )}
        </div>
        {following && scrolledUp && (
          <Button size="sm" variant="primary" className="absolute bottom-3 right-5 shadow-lg" onClick={toBottom}>
            ↓ Newest
          </Button>
        )}
      </div>
      <p className="px-4 py-2 text-xs text-slate-500">
        {query ? `${visible.length.toLocaleString()} of ${total.toLocaleString()} lines match` : `${total.toLocaleString()} lines`}
        {total >= maxLines && ` (the newest ${maxLines.toLocaleString()} are kept)`}
        {status === "closed" && " · the log stream closed: Reconnect to get new lines again."}
      </p>
    </div>
  );
}
