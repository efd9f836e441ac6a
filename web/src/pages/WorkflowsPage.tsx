/**
 * Workflows (`/workflows`, `/workflows/:id`): the library with a drop zone to add one, and a
 * workflow's versions, its inputs (each `node_id.input`) and the form that runs it.
 */
import { useState } from "react";
import { Link, useLocation } from "wouter";
import type { WorkflowDetail } from "../api/generated";
import { useDeleteWorkflow, useWorkflow, useWorkflows } from "../api/queries";
import { Button, Card, ConfirmDialog, EmptyState, ErrorState, Skeleton, errorMessage } from "../components/ui";
import { DropZone } from "../components/workflows/DropZone";
import { NewVersion } from "../components/workflows/NewVersion";
import { RunForm } from "../components/workflows/RunForm";
import { ago } from "../lib/format";

export function WorkflowsPage({ id }: { id?: string }) {
  const workflows = useWorkflows();
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold text-white">Workflows</h1>
        <p className="mt-1 text-sm text-slate-400">Your ComfyUI workflows: add one, look at its inputs, run it on a pod or a server.</p>
      </div>
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-[20rem_minmax(0,1fr)]">
        <div className="space-y-4">
          <DropZone />
          <section aria-label="Workflow library" data-testid="workflow-list">
            {workflows.isPending ? (
              <Skeleton className="h-24 w-full" />
            ) : workflows.isError ? (
              <ErrorState title="Could not load the workflows" error={workflows.error} onRetry={() => void workflows.refetch()} />
            ) : workflows.data.items.length === 0 ? (
              <EmptyState title="No workflows yet">Drop one above.</EmptyState>
            ) : (
              <ul className="divide-y divide-slate-800 overflow-hidden rounded-xl bg-slate-900 ring-1 ring-slate-800">
                {workflows.data.items.map((w) => (
                  <li key={w.id}>
                    <Link
                      href={`/workflows/${w.id}`}
                      aria-current={w.id === id ? "page" : undefined}
                      className={`block px-4 py-3 hover:bg-slate-800 ${w.id === id ? "bg-slate-800" : ""}`}
                    >
                      <span className="block truncate font-medium text-white">{w.name}</span>
                      <span className="block text-xs text-slate-400">
                        v{w.latest_version} · {w.inputs.length} inputs · {ago(w.updated_at)}
                      </span>
                    </Link>
                  </li>
                ))}
              </ul>
            )}
          </section>
        </div>
        {/* On a phone, an open workflow comes first; the library is under it. */}
        <div className={`min-w-0 ${id ? "order-first lg:order-none" : ""}`}>{id ? <WorkflowView id={id} /> : <EmptyState title="Pick a workflow">Its versions, its inputs and a form to run it appear here.</EmptyState>}</div>
      </div>
    </div>
  );
}

function WorkflowView({ id }: { id: string }) {
  const workflow = useWorkflow(id);
  if (workflow.isPending) return <Skeleton className="h-64 w-full" />;
  if (workflow.isError) return <ErrorState title="Could not load this workflow" error={workflow.error} onRetry={() => void workflow.refetch()} />;
  return <WorkflowBody key={`${workflow.data.id}:${workflow.data.latest_version}`} workflow={workflow.data} />;
}

function WorkflowBody({ workflow }: { workflow: WorkflowDetail }) {
  const [confirming, setConfirming] = useState(false);
  const remove = useDeleteWorkflow();
  const [, navigate] = useLocation();
  return (
    <div className="space-y-4" data-testid="workflow-detail">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 className="text-xl font-semibold text-white">{workflow.name}</h2>
        <div className="flex gap-3 text-sm">
          <Link className="text-sky-300 hover:text-sky-200" href={`/runs?workflow=${workflow.id}`}>
            Runs
          </Link>
          <Link className="text-sky-300 hover:text-sky-200" href={`/gallery?workflow=${workflow.id}`}>
            Images
          </Link>
          <Button size="sm" variant="ghost" onClick={() => setConfirming(true)}>
            Delete
          </Button>
        </div>
      </div>
      {confirming && (
        <ConfirmDialog
          title={`Delete ${workflow.name}?`}
          confirmLabel="Delete workflow"
          danger
          busy={remove.isPending}
          onCancel={() => setConfirming(false)}
          onConfirm={() =>
            remove.mutate(workflow.id, {
              onSuccess: () => {
                setConfirming(false);
                navigate("/workflows");
              },
            })
          }
        >
          <p>Every version goes. Its runs and their images stay in Runs and the Gallery.</p>
          {remove.error && (
            <p role="alert" className="mt-2 text-rose-300">
              {errorMessage(remove.error)}
            </p>
          )}
        </ConfirmDialog>
      )}
      {workflow.description && <p className="text-sm text-slate-300">{workflow.description}</p>}
      {workflow.tags.length > 0 && (
        <p className="flex flex-wrap gap-1">
          {workflow.tags.map((t) => (
            <span key={t} className="rounded-full bg-slate-800 px-2 py-0.5 text-xs text-slate-300">
              {t}
            </span>
          ))}
        </p>
      )}
      <Card className="p-4" aria-labelledby="versions-heading">
        <h3 id="versions-heading" className="font-semibold text-white">
          Versions
        </h3>
        <ul className="mt-2 space-y-1 text-sm" data-testid="workflow-versions">
          {workflow.versions.map((v) => (
            <li key={v.version} className="flex flex-wrap gap-x-3 text-slate-300">
              <span className="font-medium text-white">v{v.version}</span>
              <span>{v.source_format === "ui" ? "editor format" : "API format"}</span>
              <span>{v.inputs.length} inputs</span>
              {!v.has_api_prompt && <span className="text-amber-300">converted on the target when run (custom nodes)</span>}
              {v.note && <span className="text-slate-400">{v.note}</span>}
              <span className="text-slate-500">{ago(v.created_at)}</span>
            </li>
          ))}
        </ul>
        <NewVersion workflow={workflow} />
      </Card>
      <RunForm workflow={workflow} />
    </div>
  );
}
