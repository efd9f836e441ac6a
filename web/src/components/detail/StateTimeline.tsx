/** The deployment's state changes, newest first, with when, how long, and why. */
import type { DeploymentState, StateChange } from "../../api/generated";
import { clockTime, duration } from "../../lib/format";
import { useAgo } from "../../lib/useNow";

const DOT: Record<DeploymentState, string> = {
  pending: "bg-slate-400",
  creating: "bg-sky-400",
  provisioning: "bg-sky-400",
  starting: "bg-sky-400",
  installing: "bg-indigo-400",
  ready: "bg-emerald-400",
  stopping: "bg-amber-400",
  stopped: "bg-slate-500",
  restarting: "bg-amber-400",
  terminating: "bg-rose-400",
  terminated: "bg-slate-600",
  failed: "bg-rose-500",
};

/** How long ago the current state began, kept right as time passes. */
function Entered({ at }: { at: string }) {
  return <>entered {useAgo(at)}</>;
}

export function StateTimeline({ history, now }: { history: StateChange[]; now: number }) {
  if (history.length === 0) {
    return (
      <p data-testid="timeline" className="text-sm text-slate-500">
        No state changes yet.
      </p>
    );
  }
  // Oldest first from the API; each entry lasted until the next one.
  const entries = history.map((change, i) => {
    const next = history[i + 1];
    const end = next ? Date.parse(next.at) : now;
    return { change, lasted: (end - Date.parse(change.at)) / 1000, current: !next };
  });
  entries.reverse();
  return (
    <ol data-testid="timeline" className="relative max-h-96 space-y-0 overflow-y-auto">
      {entries.map(({ change, lasted, current }, i) => (
        <li
          key={`${change.at}-${change.state}-${i}`}
          data-testid="timeline-entry"
          data-state={change.state}
          className="relative flex gap-3 pb-3 pl-1 last:pb-0"
        >
          {i < entries.length - 1 && <span className="absolute left-[0.6rem] top-4 bottom-0 w-px bg-slate-800" aria-hidden />}
          <span className={`relative mt-1.5 h-2.5 w-2.5 shrink-0 rounded-full ring-4 ring-slate-900 ${DOT[change.state]} ${current ? "" : "opacity-60"}`} aria-hidden />
          <div className="min-w-0 flex-1">
            <div className="flex flex-wrap items-baseline justify-between gap-x-3">
              <span className={`text-sm font-medium ${current ? "text-white" : "text-slate-300"}`}>{change.state}</span>
              <time dateTime={change.at} title={clockTime(change.at, { date: "always", now })} className="text-xs tabular-nums text-slate-500">
                {clockTime(change.at, { date: "unless-today", now })}
              </time>
            </div>
            <p className="text-xs text-slate-500">
              {current ? <Entered at={change.at} /> : `for ${duration(lasted)}`}
            </p>
            {change.reason && <p className="mt-0.5 break-words text-xs text-slate-300">{change.reason}</p>}
          </div>
        </li>
      ))}
    </ol>
  );
}
