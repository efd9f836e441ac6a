/**
 * Gallery (`/gallery`): every output, newest first, in a grid with a lightbox; filtered by run,
 * workflow or deployment (kept in the address: `?run=`, `?workflow=`, `?deployment=`), with
 * each file's download and, for one run, the zip of all of them. New outputs arrive by event.
 */
import { useLocation, useSearch } from "wouter";
import { useDeployments, useOutputs, useRuns, useWorkflows } from "../api/queries";
import { ago } from "../lib/format";
import { OutputGrid } from "../components/gallery/OutputGrid";
import { EmptyState, ErrorState, Skeleton } from "../components/ui";

const SELECT = "mt-1 w-full rounded-md bg-slate-950 px-3 py-2 text-sm text-white ring-1 ring-slate-700 focus:outline-none focus:ring-2 focus:ring-sky-500";
const FILTERS = { run: "run_id", workflow: "workflow_id", deployment: "deployment_id" } as const;
type Filter = keyof typeof FILTERS;

export function GalleryPage() {
  const search = useSearch();
  const [, navigate] = useLocation();
  const params = new URLSearchParams(search);
  const value = (f: Filter) => params.get(f) ?? undefined;
  const outputs = useOutputs({ run_id: value("run"), workflow_id: value("workflow"), deployment_id: value("deployment") });
  const workflows = useWorkflows();
  const deployments = useDeployments();
  const runs = useRuns();
  const names = new Map((workflows.data?.items ?? []).map((w) => [w.id, w.name]));
  const withOutputs = (runs.data?.items ?? []).filter((r) => r.output_count > 0 || r.id === params.get("run"));
  const set = (f: Filter, v: string) => {
    const next = new URLSearchParams(search);
    if (v) next.set(f, v);
    else next.delete(f);
    const text = next.toString();
    navigate(`/gallery${text ? `?${text}` : ""}`);
  };
  const run = value("run");

  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold text-white">Gallery</h1>
        <p className="mt-1 text-sm text-slate-400">Every image your runs brought home. They stay after the pod is gone.</p>
      </div>
      <div className="grid grid-cols-1 gap-3 sm:grid-cols-3" role="group" aria-label="Filters">
        <label className="block text-sm text-slate-300">
          Workflow
          <select className={SELECT} value={value("workflow") ?? ""} onChange={(e) => set("workflow", e.target.value)}>
            <option value="">Every workflow</option>
            {(workflows.data?.items ?? []).map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
        <label className="block text-sm text-slate-300">
          Deployment
          <select className={SELECT} value={value("deployment") ?? ""} onChange={(e) => set("deployment", e.target.value)}>
            <option value="">Every deployment</option>
            {(deployments.data?.deployments ?? []).map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
        <div className="text-sm text-slate-300">
          <label className="block">
            Run
            <select className={SELECT} value={run ?? ""} onChange={(e) => set("run", e.target.value)}>
              <option value="">Every run</option>
              {run && !withOutputs.some((r) => r.id === run) && <option value={run}>{run.slice(0, 8)}</option>}
              {withOutputs.map((r) => (
                <option key={r.id} value={r.id}>
                  {(r.workflow_id && names.get(r.workflow_id)) ?? "run"} · {ago(r.created_at)} · {r.output_count} file{r.output_count === 1 ? "" : "s"}
                </option>
              ))}
            </select>
          </label>
          {run && (
            <a href={`/api/v1/runs/${run}/outputs.zip`} download className="mt-1 inline-block text-xs text-sky-300 hover:text-sky-200">
              Download this run's files (zip)
            </a>
          )}
        </div>
      </div>
      {outputs.isPending ? (
        <Skeleton className="h-48 w-full" />
      ) : outputs.isError ? (
        <ErrorState title="Could not load the outputs" error={outputs.error} onRetry={() => void outputs.refetch()} />
      ) : outputs.data.items.length === 0 ? (
        <EmptyState title={params.size ? "Nothing matches these filters" : "No images yet"}>Run a workflow: its images appear here as they are made.</EmptyState>
      ) : (
        <>
          <p className="text-xs text-slate-500">
            {outputs.data.total} file{outputs.data.total === 1 ? "" : "s"}
            {outputs.data.total > outputs.data.items.length ? `, the newest ${outputs.data.items.length} shown` : ""}
          </p>
          <OutputGrid outputs={outputs.data.items} />
        </>
      )}
    </div>
  );
}
