/** The idle clock, live: `idle for 12 min, stops in 18 min`, and (on the detail page) the
 * keep-awake choice. The countdown ticks from the API's moments; nothing is re-read for it. */
import { useState } from "react";
import type { DeploymentView } from "../api/generated";
import { useKeepAwake } from "../api/queries";
import { idleLine, KEEP_AWAKE_CHOICES, policyLine, type IdleLine } from "../lib/idle";
import { useNow } from "../lib/useNow";
import { Button, errorMessage } from "./ui";

const TONE: Record<IdleLine["tone"], string> = {
  calm: "text-slate-400",
  warn: "text-amber-300",
  busy: "text-emerald-300",
  off: "text-slate-500",
};

export function IdleClockLine({ dep, className = "" }: { dep: DeploymentView; className?: string }) {
  const ticking = dep.state === "ready" || dep.state === "stopped";
  const now = useNow(ticking, 15_000);
  const line = idleLine(dep.idle, dep.state, now);
  if (!line) return null;
  return (
    <p className={`truncate tabular-nums ${TONE[line.tone]} ${className}`} data-testid="idle-clock" data-tone={line.tone} title={line.text}>
      {line.text}
    </p>
  );
}

export function KeepAwake({ dep }: { dep: DeploymentView }) {
  const keep = useKeepAwake();
  const [choice, setChoice] = useState(120);
  if (dep.state !== "ready" || dep.idle.policy.mode === "off") return null;
  return (
    <div className="flex flex-wrap items-center gap-2" data-testid="keep-awake">
      <span className="text-xs text-slate-500" data-testid="idle-policy">
        {policyLine(dep.idle)}
      </span>
      <label className="text-xs text-slate-400" htmlFor={`keep-awake-${dep.id}`}>
        Keep awake for
      </label>
      <select
        id={`keep-awake-${dep.id}`}
        className="rounded-md bg-slate-800 px-2 py-1.5 text-sm text-slate-100 ring-1 ring-slate-700"
        value={choice}
        onChange={(e) => setChoice(Number(e.target.value))}
      >
        {KEEP_AWAKE_CHOICES.map((c) => (
          <option key={c.minutes} value={c.minutes}>
            {c.label}
          </option>
        ))}
      </select>
      <Button size="sm" onClick={() => keep.mutate({ id: dep.id, minutes: choice })} disabled={keep.isPending}>
        {keep.isPending ? "Keeping awake…" : "Keep awake"}
      </Button>
      {keep.isError && (
        <p role="alert" className="text-sm text-rose-300">
          Could not keep it awake: {errorMessage(keep.error)}
        </p>
      )}
    </div>
  );
}
