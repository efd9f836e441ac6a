/** The pod agent's setup steps, each with its status, message and download progress. */
import type { DeploymentState, SetupStep } from "../../api/generated";
import { bytes, duration } from "../../lib/format";
import { SETUP_STEPS, setupRun } from "../../lib/setupSteps";
import { ProgressBar } from "../ui";

type Status = "pending" | "running" | "done" | "failed" | "skipped" | "ended";

function statusOf(step: SetupStep | undefined): Status {
  const status = step?.status;
  return status === "running" || status === "done" || status === "failed" || status === "skipped" ? status : "pending";
}

function StatusIcon({ status }: { status: Status }) {
  const base = "flex h-6 w-6 shrink-0 items-center justify-center rounded-full text-xs font-bold";
  switch (status) {
    case "done":
      return <span className={`${base} bg-emerald-500/20 text-emerald-300`} aria-hidden>✓</span>;
    case "failed":
      return <span className={`${base} bg-rose-500/20 text-rose-300`} aria-hidden>✕</span>;
    case "running":
      return (
        <span className={`${base} bg-sky-500/10`} aria-hidden>
          <span className="h-3.5 w-3.5 animate-spin rounded-full border-2 border-sky-900 border-t-sky-400" />
        </span>
      );
    case "skipped":
      return <span className={`${base} bg-slate-800 text-slate-400`} aria-hidden>–</span>;
    case "ended":
      return <span className={`${base} bg-slate-800 text-slate-500`} aria-hidden>■</span>;
    default:
      return <span className={`${base} ring-1 ring-inset ring-slate-700`} aria-hidden />;
  }
}

const STATUS_TEXT: Record<Status, string> = { pending: "Pending", running: "Running", done: "Done", failed: "Failed", skipped: "Skipped", ended: "Not now" };
const STATUS_COLOUR: Record<Status, string> = {
  pending: "text-slate-500",
  ended: "text-slate-500",
  skipped: "text-slate-500",
  running: "text-sky-300",
  done: "text-emerald-300",
  failed: "text-rose-300",
};

function Transfer({ step, label }: { step: SetupStep; label: string }) {
  const done = step.bytes_done ?? null;
  const total = step.bytes_total ?? null;
  if (done === null && total === null) return null;
  // A finished step shows what it handled; a running (or failed) one how far it got.
  if (step.status === "done" || step.status === "skipped") {
    if (!(total ?? done)) return null; // nothing handled: "0 B" says nothing
    return (
      <p className="mt-1 text-xs tabular-nums text-slate-500" data-testid="setup-step-bytes">
        {bytes(total ?? done)}
      </p>
    );
  }
  const fraction = total ? Math.min(1, (done ?? 0) / total) : null;
  const parts = [total ? `${bytes(done ?? 0)} of ${bytes(total)}` : bytes(done)];
  if (step.status === "running" && step.speed_bps) parts.push(`${bytes(step.speed_bps)}/s`);
  if (step.status === "running" && step.eta_s !== null && step.eta_s !== undefined) parts.push(`${duration(step.eta_s)} left`);
  return (
    <div className="mt-2 space-y-1">
      <ProgressBar value={fraction} label={`${label} progress`} />
      <p className="flex justify-between gap-2 text-xs tabular-nums text-slate-400" data-testid="setup-step-bytes">
        <span className="truncate">{parts.join(" · ")}</span>
        {fraction !== null && <span className="shrink-0">{Math.floor(fraction * 100)}%</span>}
      </p>
    </div>
  );
}

const NOTE = {
  past: "The pod is not running: these are the steps of its last run.",
  restarting: "Starting again: the steps of the last run, until the pod reports this one.",
} as const;

/** `state`: the deployment's, so that only a ready one's steps say ComfyUI is ready now. */
export function SetupSteps({ steps, state }: { steps: SetupStep[]; state?: DeploymentState }) {
  const run = setupRun(state);
  const byName = new Map(steps.map((s) => [s.step, s]));
  // The six known steps in order, then anything newer the agent reports.
  const known = new Set<string>(SETUP_STEPS.map((s) => s.step));
  const rows = [
    ...SETUP_STEPS.map(({ step, label }) => ({ step, label, data: byName.get(step) })),
    ...steps.filter((s) => !known.has(s.step)).map((s) => ({ step: s.step, label: s.step, data: s })),
  ];
  return (
    <div>
    {run !== "live" && steps.length > 0 && (
      <p className="mb-2 text-xs text-slate-400" data-testid="setup-note">
        {NOTE[run]}
      </p>
    )}
    <ol className="space-y-1" aria-label="Setup steps">
      {rows.map(({ step, label, data }) => {
        let status = statusOf(data);
        // ComfyUI is ready only while the deployment is: otherwise that step is history.
        if (step === "ready" && status === "done" && run !== "live") status = run === "past" ? "ended" : "pending";
        return (
          <li
            key={step}
            data-testid="setup-step"
            data-step={step}
            data-status={status}
            className={`flex gap-3 rounded-lg px-2 py-2 ${status === "running" ? "bg-slate-800/50" : ""} ${status === "failed" ? "bg-rose-950/40" : ""}`}
          >
            <StatusIcon status={status} />
            <div className="min-w-0 flex-1">
              <div className="flex items-baseline justify-between gap-2">
                <span className={`text-sm font-medium ${status === "pending" || status === "skipped" || status === "ended" ? "text-slate-400" : "text-slate-100"}`}>{label}</span>
                <span className={`shrink-0 text-xs ${STATUS_COLOUR[status]}`}>{STATUS_TEXT[status]}</span>
              </div>
              {data?.item && status === "running" && (
                <p className="mt-0.5 truncate font-mono text-xs text-slate-300" title={data.item}>
                  {data.item}
                </p>
              )}
              {data?.message && status !== "ended" && (
                <p className={`mt-0.5 break-words text-xs ${status === "failed" ? "text-rose-200" : "text-slate-400"}`}>{data.message}</p>
              )}
              {data && status !== "ended" && <Transfer step={data} label={label} />}
            </div>
          </li>
        );
      })}
    </ol>
    </div>
  );
}
