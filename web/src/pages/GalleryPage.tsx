/**
 * Gallery (`/gallery`): every output, newest first, in a grid with a lightbox; filtered by run,
 * workflow or deployment (kept in the address: `?run=`, `?workflow=`, `?deployment=`), with
 * each file's download and, for one run, the zip of all of them. New outputs arrive by event.
 */
import { useLocation, useSearch } from "wouter";
import { useDeployments, useOutputs, useWorkflows } from "../api/queries";
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
          Run
          {run ? (
            <p className="mt-1 flex items-center gap-2 py-2">
              <span className="truncate font-mono text-xs text-slate-200">{run.slice(0, 8)}</span>
              <a href={`/api/v1/runs/${run}/outputs.zip`} download className="text-sky-300 hover:text-sky-200">
                Download zip
              </a>
              <button type="button" className="text-slate-400 hover:text-white" onClick={() => set("run", "")}>
                Clear
              </button>
            </p>
          ) : (
            <p className="mt-1 py-2 text-xs text-slate-500">Every run (open a run's images from its page)</p>
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
