/**
 * Runs (`/runs`): every run, newest first, with its state and live per-node progress (run
 * events patch the list: nothing polls), and cancel. `?workflow=` and `?batch=` filter it.
 */
import { Link, useSearch } from "wouter";
import type { RunView } from "../api/generated";
import { useRuns, useWorkflows } from "../api/queries";
import { CancelRunButton, progressText, RunProgressBar, RunStateBadge } from "../components/runs/RunBits";
import { EmptyState, ErrorState, Skeleton } from "../components/ui";
import { ago } from "../lib/format";

export function RunsPage() {
  const params = new URLSearchParams(useSearch());
  const workflowId = params.get("workflow") ?? undefined;
  const batchId = params.get("batch") ?? undefined;
  const runs = useRuns({ workflow_id: workflowId, batch_id: batchId });
  const workflows = useWorkflows();
  const names = new Map((workflows.data?.items ?? []).map((w) => [w.id, w.name]));
  const filtered = workflowId || batchId;

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold text-white">Runs</h1>
          <p className="mt-1 text-sm text-slate-400">
            {batchId ? "The runs of one batch." : workflowId ? `The runs of ${names.get(workflowId) ?? "one workflow"}.` : "Every workflow run, newest first, live."}
          </p>
        </div>
        {filtered && (
          <Link href="/runs" className="text-sm text-sky-300 hover:text-sky-200">
            Show every run
          </Link>
        )}
      </div>
      {runs.isPending ? (
        <Skeleton className="h-40 w-full" />
      ) : runs.isError ? (
        <ErrorState title="Could not load the runs" error={runs.error} onRetry={() => void runs.refetch()} />
      ) : runs.data.items.length === 0 ? (
        <EmptyState title="No runs yet">
          <p>
            Open a workflow on the <Link href="/workflows" className="text-sky-300">Workflows</Link> page and run it.
          </p>
        </EmptyState>
      ) : (
        <>
          {runs.data.total > runs.data.items.length && (
            <p className="text-xs text-slate-500">The newest {runs.data.items.length} of {runs.data.total} runs.</p>
          )}
          <ul className="space-y-2" data-testid="run-list">
            {runs.data.items.map((run) => (
              <RunRow key={run.id} run={run} inBatch={batchId !== undefined} workflowName={run.workflow_id ? names.get(run.workflow_id) : undefined} />
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

function RunRow({ run, workflowName, inBatch }: { run: RunView; workflowName?: string; inBatch: boolean }) {
  return (
    <li data-testid="run-row" data-run-id={run.id} className="rounded-xl bg-slate-900 p-4 ring-1 ring-slate-800">
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
        <RunStateBadge run={run} />
        <Link href={`/runs/${run.id}`} className="min-w-0 truncate font-medium text-white hover:text-sky-200">
          {workflowName ?? (run.workflow_id ? "workflow" : "raw prompt")}
          {run.workflow_version ? ` v${run.workflow_version}` : ""}
          {/* Its place in its batch: every run in a batch's view, the later ones elsewhere. */}
          {inBatch || run.batch_index > 0 ? <span className="text-slate-500"> #{run.batch_index + 1}</span> : null}
        </Link>
        <span className="text-xs text-slate-500">{ago(run.created_at)}</span>
        <span className="ml-auto">
          <CancelRunButton run={run} />
        </span>
      </div>
      <div className="mt-3 space-y-1.5">
        <RunProgressBar run={run} />
        <p className={`truncate text-xs ${run.state === "failed" ? "text-rose-300" : "text-slate-400"}`} data-testid="run-progress">
          {progressText(run)}
        </p>
      </div>
    </li>
  );
}
