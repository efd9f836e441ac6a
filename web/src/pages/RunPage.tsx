/** A run (`/runs/:id`): its state and live progress, the latest preview, its error, its outputs and their zip. */
import { Link } from "wouter";
import { useComfyuiServers, useDeployments, useOutputs, useRun, useRunPreview, useWorkflow } from "../api/queries";
import { OutputGrid } from "../components/gallery/OutputGrid";
import { CancelRunButton, isActive, progressText, RunProgressBar, RunStateBadge } from "../components/runs/RunBits";
import { Card, EmptyState, ErrorState, Skeleton } from "../components/ui";
import { dateTime } from "../lib/format";

export function RunPage({ id }: { id: string }) {
  const run = useRun(id);
  const workflow = useWorkflow(run.data?.workflow_id ?? undefined);
  const outputs = useOutputs({ run_id: id });
  const preview = useRunPreview(id);
  const deployments = useDeployments();
  const servers = useComfyuiServers();
  if (run.isPending) return <Skeleton className="h-64 w-full" />;
  if (run.isError) return <ErrorState title="Could not load this run" error={run.error} onRetry={() => void run.refetch()} />;
  const r = run.data;
  const classes = new Map((workflow.data?.inputs ?? []).map((i) => [i.node_id, i.class_type]));
  return (
    <div className="space-y-6" data-testid="run-page">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="min-w-0 truncate text-2xl font-semibold text-white">
          {workflow.data ? (
            <Link href={`/workflows/${workflow.data.id}`} className="hover:text-sky-200">
              {workflow.data.name}
            </Link>
          ) : (
            "Run"
          )}
          {r.workflow_version ? <span className="text-slate-400"> v{r.workflow_version}</span> : null}
        </h1>
        <RunStateBadge run={r} />
        <span className="ml-auto">
          <CancelRunButton run={r} />
        </span>
      </div>
      <Card className="space-y-3 p-4">
        <RunProgressBar run={r} />
        <p className={`text-sm ${r.state === "failed" ? "text-rose-300" : "text-slate-300"}`} data-testid="run-progress">
          {progressText(r, (node) => classes.get(node))}
        </p>
        {r.error?.nodes?.length ? (
          <ul className="list-disc space-y-1 pl-5 text-sm text-rose-200">
            {r.error.nodes.map((n, i) => (
              <li key={i}>
                {n.node_id ? `Node ${n.node_id}${n.class_type ? ` (${n.class_type})` : ""}${n.input ? `, ${n.input}` : ""}: ` : ""}
                {n.message}
              </li>
            ))}
          </ul>
        ) : null}
        <dl className="grid grid-cols-2 gap-3 text-xs text-slate-400 sm:grid-cols-4">
          <div>
            <dt className="uppercase tracking-wide text-slate-500">Queued</dt>
            <dd>{dateTime(r.created_at)}</dd>
          </div>
          <div>
            <dt className="uppercase tracking-wide text-slate-500">Started</dt>
            <dd>{dateTime(r.started_at)}</dd>
          </div>
          <div>
            <dt className="uppercase tracking-wide text-slate-500">Finished</dt>
            <dd>{dateTime(r.finished_at)}</dd>
          </div>
          <div>
            <dt className="uppercase tracking-wide text-slate-500">Target</dt>
            <dd>
              {r.deployment_id ? (
                <Link href={`/deployments/${r.deployment_id}`} className="text-sky-300" data-testid="run-target">
                  {deployments.data?.deployments.find((d) => d.id === r.deployment_id)?.name ?? "its deployment"}
                </Link>
              ) : (
                <span data-testid="run-target">{servers.data?.items.find((s) => s.id === r.server_id)?.name ?? "a registered server"} (server)</span>
              )}
            </dd>
          </div>
        </dl>
        {Object.keys(r.overrides).length > 0 && (
          <p className="break-all font-mono text-xs text-slate-400">
            {Object.entries(r.overrides)
              .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
              .join("  ")}
          </p>
        )}
      </Card>
      {isActive(r) && preview.data && (
        <Card className="p-4">
          <h2 className="text-sm font-medium text-slate-300">Latest preview</h2>
          <img src={preview.data} alt="The sampler's latest preview" data-testid="run-preview" className="mt-2 max-h-80 rounded object-contain" />
        </Card>
      )}
      <section className="space-y-3" aria-labelledby="outputs-heading">
        <div className="flex flex-wrap items-center justify-between gap-2">
          <h2 id="outputs-heading" className="text-lg font-semibold text-white">
            Outputs
          </h2>
          {(outputs.data?.items.length ?? 0) > 0 && (
            <span className="flex items-center gap-3">
              <Link href={`/gallery?run=${r.id}`} className="text-sm text-sky-300 hover:text-sky-200">
                In the gallery
              </Link>
              <a href={`/api/v1/runs/${r.id}/outputs.zip`} download className="rounded-md bg-slate-800 px-3 py-1.5 text-sm text-slate-100 ring-1 ring-slate-700 hover:bg-slate-700">
                Download all (zip)
              </a>
            </span>
          )}
        </div>
        {outputs.isPending ? (
          <Skeleton className="h-32 w-full" />
        ) : outputs.isError ? (
          <ErrorState title="Could not load the outputs" error={outputs.error} onRetry={() => void outputs.refetch()} />
        ) : outputs.data.items.length === 0 ? (
          <EmptyState title={isActive(r) ? "No output yet" : "This run made no output"} />
        ) : (
          <OutputGrid outputs={outputs.data.items} />
        )}
      </section>
    </div>
  );
}
