/** A run's state badge, its live progress, and its cancel button: shared by the runs list and a run's page. */
import type { RunView } from "../../api/generated";
import { useCancelRun } from "../../api/queries";
import { Button, ProgressBar, errorMessage } from "../ui";

type RunState = RunView["state"];
const STYLE: Record<RunState, string> = {
  queued: "bg-slate-700/60 text-slate-200",
  dispatching: "bg-sky-900/70 text-sky-200",
  running: "bg-indigo-900/70 text-indigo-200",
  succeeded: "bg-emerald-900/70 text-emerald-200",
  failed: "bg-rose-900/80 text-rose-100",
  cancelled: "bg-slate-800 text-slate-400",
};

export function isActive(run: RunView): boolean {
  return run.state === "queued" || run.state === "dispatching" || run.state === "running";
}

export function RunStateBadge({ run }: { run: RunView }) {
  const label = run.cancel_requested && isActive(run) ? "cancelling" : run.state;
  return (
    <span
      data-testid="run-state"
      data-state={run.state}
      className={`inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium ${STYLE[run.state]}`}
    >
      <span className={`h-1.5 w-1.5 rounded-full bg-current ${isActive(run) ? "animate-pulse" : ""}`} aria-hidden />
      {label}
    </span>
  );
}

/** What the run does now: the node running, its step, nodes done; the error when it failed. */
export function progressText(run: RunView, classOf: (nodeId: string) => string | undefined = () => undefined): string {
  const p = run.progress;
  if (run.state === "queued") return "Waiting to be sent to ComfyUI";
  if (run.state === "dispatching") return run.submitted_at ? "In ComfyUI's queue" : "Being sent to ComfyUI";
  if (run.state === "running") {
    const node = p.node ? `node ${p.node}${classOf(p.node) ? ` (${classOf(p.node)})` : ""}` : "starting";
    const step = p.step != null && p.steps ? `, step ${p.step}/${p.steps}` : "";
    return `${node}${step} · ${p.nodes_done ?? 0}/${p.nodes_total ?? 0} nodes`;
  }
  if (run.state === "failed") return run.error?.message ?? "Failed";
  if (run.state === "cancelled") return "Cancelled";
  return `Done · ${run.output_count} output${run.output_count === 1 ? "" : "s"}`;
}

export function RunProgressBar({ run }: { run: RunView }) {
  const active = isActive(run);
  const value = run.state === "succeeded" ? 1 : active && run.state !== "running" ? null : (run.progress.percent ?? 0) / 100;
  return <ProgressBar value={value} label={`Progress of run ${run.id}`} />;
}

export function CancelRunButton({ run }: { run: RunView }) {
  const cancel = useCancelRun();
  if (!isActive(run)) return null;
  return (
    <span className="inline-flex flex-col items-end">
      <Button size="sm" variant="danger" disabled={cancel.isPending || run.cancel_requested} onClick={() => cancel.mutate(run.id)}>
        {run.cancel_requested ? "Cancelling…" : "Cancel"}
      </Button>
      {cancel.error && (
        <span role="alert" className="mt-1 text-xs text-rose-300">
          {errorMessage(cancel.error)}
        </span>
      )}
    </span>
  );
}
