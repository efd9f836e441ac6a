/**
 * The Dashboard (`/`): what runs, what it costs, and a card per deployment with its actions.
 * Everything on it is kept live by the app's one event stream (see live/), which patches the
 * deployment list and invalidates the cost summary.
 */
import { useState } from "react";
import { Link } from "wouter";
import { useDeployments } from "../api/queries";
import { DeploymentCard, DeploymentCardSkeleton } from "../components/dashboard/DeploymentCard";
import { newestFirst } from "../components/dashboard/logic";
import { Summary } from "../components/dashboard/Summary";
import { EmptyState, ErrorState } from "../components/ui";

const GRID = "grid grid-cols-1 gap-4 md:grid-cols-2 xl:grid-cols-3";

export function DashboardPage() {
  const deployments = useDeployments();
  const [showTerminated, setShowTerminated] = useState(false);
  const all = deployments.data ? newestFirst(deployments.data.deployments) : undefined;
  const live = all?.filter((d) => d.state !== "terminated") ?? [];
  const terminated = all?.filter((d) => d.state === "terminated") ?? [];

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold text-white">Dashboard</h1>
          <p className="mt-1 text-sm text-slate-400">Your ComfyUI pods, what they cost, and what they are doing right now.</p>
        </div>
      </div>

      <Summary deployments={all} listFailed={deployments.isError} />

      <section aria-labelledby="deployments-heading" className="space-y-3">
        <div className="flex min-h-8 flex-wrap items-center justify-between gap-2">
          <h2 id="deployments-heading" className="text-lg font-semibold text-white">
            Deployments
          </h2>
          {terminated.length > 0 && (
            <button
              type="button"
              aria-pressed={showTerminated}
              onClick={() => setShowTerminated((v) => !v)}
              className="inline-flex items-center gap-2 rounded-md px-2.5 py-1.5 text-sm text-slate-300 hover:bg-slate-800 hover:text-white focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-400"
            >
              <span
                aria-hidden
                className={`relative h-4 w-7 rounded-full transition-colors ${showTerminated ? "bg-sky-500" : "bg-slate-700"}`}
              >
                <span
                  className={`absolute top-0.5 h-3 w-3 rounded-full bg-white transition-[left] ${showTerminated ? "left-3.5" : "left-0.5"}`}
                />
              </span>
              Show terminated ({terminated.length})
            </button>
          )}
        </div>

        {deployments.isPending ? (
          <div className={GRID} aria-busy="true" aria-label="Loading deployments">
            {[0, 1, 2].map((i) => (
              <DeploymentCardSkeleton key={i} />
            ))}
          </div>
        ) : deployments.isError ? (
          <ErrorState
            title="Could not load your deployments"
            error={deployments.error}
            onRetry={() => void deployments.refetch()}
          />
        ) : (
          <>
            {live.length === 0 ? (
              <EmptyState title={terminated.length ? "No pods right now" : "No deployments yet"}>
                <p>
                  A deployment is a RunPod GPU pod that installs ComfyUI with the nodes and models you choose, then
                  bills by the second until you stop or terminate it.
                </p>
                <Link
                  href="/deploy"
                  className="mt-4 inline-flex rounded-md bg-sky-500 px-3.5 py-2 text-sm font-medium text-slate-950 hover:bg-sky-400 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-400"
                >
                  Deploy ComfyUI
                </Link>
              </EmptyState>
            ) : (
              <div className={GRID}>
                {live.map((dep) => (
                  <DeploymentCard key={dep.id} dep={dep} />
                ))}
              </div>
            )}
            {showTerminated && terminated.length > 0 && (
              <div className="space-y-3 pt-2">
                <h3 className="text-sm font-medium text-slate-400">Terminated</h3>
                <div className={GRID}>
                  {terminated.map((dep) => (
                    <DeploymentCard key={dep.id} dep={dep} />
                  ))}
                </div>
              </div>
            )}
          </>
        )}
      </section>
    </div>
  );
}
