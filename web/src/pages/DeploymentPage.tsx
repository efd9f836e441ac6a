/**
 * One deployment: its state and actions, setup progress, cost, state history, utilisation and
 * pod log. The live layer keeps the query fresh on events; pod metrics change without events,
 * so the detail is also re-read every 10 s while the pod runs.
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, type ReactNode } from "react";
import { Link } from "wouter";
import { ApiError } from "../api/http";
import { fetchDeployment, keys, useDeployment } from "../api/queries";
import { CostPanel } from "../components/detail/CostPanel";
import { DetailHeader } from "../components/detail/DetailHeader";
import { DetailSkeleton } from "../components/detail/DetailSkeleton";
import { LogViewer } from "../components/detail/LogViewer";
import { SetupSteps } from "../components/detail/SetupSteps";
import { StateTimeline } from "../components/detail/StateTimeline";
import { UtilisationPanel } from "../components/detail/UtilisationPanel";
import { useNow } from "../lib/useNow";
import { Card, EmptyState, ErrorState } from "../components/ui";
import { useConnection } from "../live/LiveProvider";

export const METRICS_REFRESH_MS = 10_000;

/**
 * Re-read the detail every 10 s while the pod runs (another observer of the same query), and
 * while live updates are down for a deployment still changing (events would have said).
 */
function usePodMetricsRefresh(id: string, running: boolean) {
  const client = useQueryClient();
  useQuery({
    queryKey: keys.deployment(id),
    queryFn: ({ signal }) => fetchDeployment(client, id, signal),
    enabled: running,
    refetchInterval: running ? METRICS_REFRESH_MS : false,
    notifyOnChangeProps: [],
  });
}

/** `/deployments/<id>#logs`: the section exists only once the deployment has loaded. */
function useScrollToHash(ready: boolean) {
  const done = useRef(false);
  useEffect(() => {
    if (!ready || done.current) return;
    done.current = true;
    const hash = window.location.hash.slice(1);
    if (hash) document.getElementById(decodeURIComponent(hash))?.scrollIntoView();
  }, [ready]);
}

function Panel({ title, aside, children, className = "", ...rest }: { title: string; aside?: ReactNode; children: ReactNode; className?: string; id?: string }) {
  return (
    <Card className={`p-4 ${className}`} aria-label={title} {...rest}>
      <div className="mb-3 flex items-baseline justify-between gap-2">
        <h2 className="text-base font-semibold text-white">{title}</h2>
        {aside}
      </div>
      {children}
    </Card>
  );
}

export function DeploymentPage({ id }: { id: string }) {
  const query = useDeployment(id);
  const dep = query.data;
  const live = useConnection().state === "open";
  const poll = dep?.pod?.status === "RUNNING" || (!live && dep !== undefined && dep.state !== "terminated");
  usePodMetricsRefresh(id, poll);
  const now = useNow(dep !== undefined && dep.state !== "terminated", 15_000);
  useScrollToHash(dep !== undefined);

  if (!dep) {
    if (query.isError) {
      if (query.error instanceof ApiError && query.error.status === 404) {
        return (
          <div data-testid="detail-not-found">
            <EmptyState title="Deployment not found">
              <p>
                There is no deployment <code className="break-all text-slate-300">{id}</code>. It may have been deleted, or the link is wrong.
              </p>
              <Link href="/" className="mt-3 inline-block text-sky-400 hover:underline">
                Back to deployments
              </Link>
            </EmptyState>
          </div>
        );
      }
      return (
        <div className="space-y-4">
          <Link href="/" className="text-sm text-slate-400 hover:text-white">
            ← Deployments
          </Link>
          <ErrorState error={query.error} title="Could not load this deployment" onRetry={() => void query.refetch()} />
        </div>
      );
    }
    return <DetailSkeleton />;
  }

  return (
    <div className="space-y-6" data-testid="deployment-detail">
      <DetailHeader dep={dep} />
      {query.isError && (
        <p role="status" className="rounded-md bg-amber-950/50 px-3 py-2 text-sm text-amber-200 ring-1 ring-amber-900">
          Showing what was last loaded: the latest refresh failed ({query.error.message}).
        </p>
      )}
      <div className="grid gap-6 lg:grid-cols-[minmax(0,5fr)_minmax(0,7fr)]">
        <div className="min-w-0 space-y-6">
          <Panel title="Setup">
            <SetupSteps steps={dep.setup} state={dep.state} />
          </Panel>
          <Panel title="Cost">
            <CostPanel dep={dep} />
          </Panel>
          <Panel title="State history">
            <StateTimeline history={dep.history} now={now} />
          </Panel>
        </div>
        <div className="min-w-0 space-y-6">
          <Panel title="Utilisation" aside={<span className="text-xs text-slate-500">last 10 minutes</span>}>
            <UtilisationPanel pod={dep.pod} updatedAt={query.dataUpdatedAt} />
          </Panel>
          <section id="logs" className="scroll-mt-20 overflow-hidden rounded-xl bg-slate-900 ring-1 ring-slate-800" aria-label="Logs">
            <LogViewer deploymentId={dep.id} ended={dep.state === "terminated"} />
          </section>
        </div>
      </div>
    </div>
  );
}
