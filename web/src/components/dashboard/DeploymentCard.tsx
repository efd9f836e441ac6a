/**
 * One deployment on the dashboard: what it is, what it costs, where it is, and the buttons to
 * stop, start, restart or terminate it. Every row has a fixed height, so a card does not jump
 * as its state changes and the loading skeleton has exactly the card's size.
 */
import { useState, type ReactNode } from "react";
import { createPortal } from "react-dom";
import { Link } from "wouter";
import type { DeploymentView } from "../../api/generated";
import { useDeploymentAction, type DeploymentAction } from "../../api/queries";
import { bytes, duration, perHour, usd } from "../../lib/format";
import { useNow } from "../../lib/useNow";
import { Button, Card, ConfirmDialog, errorMessage, ProgressBar, Skeleton, StateBadge } from "../ui";
import { liveUptime } from "../../lib/uptime";
import { allowedActions } from "../../lib/actions";
import { SETUP_STEPS } from "../../lib/setupSteps";
import { setupSummary, stateLine, stepLabel, utilization } from "./logic";
import { idleLine } from "../../lib/idle";
import { IdleClockLine } from "../IdleClock";

// Row heights shared by the card and its skeleton.
const ROW = {
  head: "h-7",
  sub: "h-5",
  stats: "h-11",
  status: "h-[4.5rem]",
  actions: "h-9",
  links: "h-8",
};

const LINK_CLASS =
  "inline-flex items-center gap-1 rounded-md px-2.5 py-1 text-xs font-medium focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-400";

function Figure({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div className="min-w-0">
      <p className="text-[11px] uppercase tracking-wide text-slate-500">{label}</p>
      <p className="mt-0.5 truncate text-sm font-semibold tabular-nums text-white" data-testid={testId}>
        {children}
      </p>
    </div>
  );
}

function Uptime({ dep }: { dep: DeploymentView }) {
  const running = dep.pod?.status === "RUNNING" && dep.state !== "terminated";
  const now = useNow(running);
  const seconds = dep.state === "terminated" ? null : liveUptime(dep.pod, now);
  return <>{seconds === null ? "—" : duration(seconds)}</>;
}

function SetupProgress({ dep }: { dep: DeploymentView }) {
  const setup = setupSummary(dep.setup);
  const step = setup.current;
  const name = step ? stepLabel(step.step) : "Waiting for the pod agent";
  return (
    <div data-testid="setup-progress" className="space-y-1.5">
      <div className="flex items-baseline justify-between gap-2 text-xs">
        <span className="truncate font-medium text-indigo-200" data-testid="setup-step" data-step={step?.step}>
          {name}
        </span>
        {setup.index > 0 && <span className="shrink-0 tabular-nums text-slate-500">step {setup.index} of {SETUP_STEPS.length}</span>}
      </div>
      <ProgressBar value={setup.fraction} label={`Setup of ${dep.name}: ${name}`} />
      <p className="truncate text-xs text-slate-400" title={step?.message ?? undefined}>
        {setup.bytesTotal !== null
          ? `${bytes(setup.bytesDone)} of ${bytes(setup.bytesTotal)}${step?.item ? ` · ${step.item}` : step?.message ? ` · ${step.message}` : ""}`
          : (step?.message ?? "Installing ComfyUI, custom nodes and models.")}
      </p>
    </div>
  );
}

function StatusLine({ dep }: { dep: DeploymentView }) {
  if (dep.state === "installing") return <SetupProgress dep={dep} />;
  if (dep.state === "failed") {
    return (
      <div className="text-xs" data-testid="failure-reason">
        <p className="font-medium text-rose-300">Failed</p>
        <p className="mt-0.5 line-clamp-2 text-rose-200/80" title={dep.reason ?? undefined}>
          {dep.reason ?? "The pod could not be made, crashed or vanished."}
        </p>
      </div>
    );
  }
  const busy = dep.state === "ready" ? utilization(dep.pod) : null;
  const idle = idleLine(dep.idle, dep.state, Date.now()) !== null;
  return (
    <div className="text-xs">
      <p className={`${dep.reason || idle ? "line-clamp-1" : "line-clamp-2"} text-slate-400`}>{stateLine(dep.state)}</p>
      {idle && !dep.reason && <IdleClockLine dep={dep} className="mt-0.5" />}
      {dep.reason && (
        // Why the system stopped it (a budget, say): name, limit and spend.
        <p className="mt-0.5 line-clamp-2 text-amber-200/90" title={dep.reason} data-testid="state-reason">
          {dep.reason}
        </p>
      )}
      {busy && (
        <p className="mt-1 tabular-nums text-slate-500" data-testid="utilization">
          {busy}
        </p>
      )}
    </div>
  );
}

const ACTION_LABEL: Record<Exclude<DeploymentAction, "terminate">, string> = {
  stop: "Stop",
  start: "Start",
  restart: "Restart",
};

export function DeploymentCard({ dep }: { dep: DeploymentView }) {
  const action = useDeploymentAction();
  const [confirming, setConfirming] = useState(false);
  const busy = action.isPending;
  const allowed = allowedActions(dep);
  const pending = action.isPending ? action.variables?.action : undefined;
  const run = (name: DeploymentAction) =>
    action.mutate({ id: dep.id, action: name }, { onSettled: () => setConfirming(false) });
  const gpu = `${dep.gpu.id} × ${dep.gpu.count}`;
  const where = [dep.cloud, dep.pod?.data_center_id].filter(Boolean).join(" · ");

  return (
    <Card
      className="flex flex-col p-4"
      data-testid="deployment-card"
      data-deployment-id={dep.id}
      aria-labelledby={`dep-${dep.id}-name`}
    >
      <div className={`${ROW.head} flex items-center justify-between gap-2`}>
        <h3 id={`dep-${dep.id}-name`} className="min-w-0 truncate font-semibold" title={dep.name}>
          <Link
            href={`/deployments/${dep.id}`}
            className="rounded text-white hover:text-sky-300 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-400"
          >
            {dep.name}
          </Link>
        </h3>
        <StateBadge state={dep.state} />
      </div>
      <p className={`${ROW.sub} truncate text-xs text-slate-400`} title={`${gpu}${where ? ` · ${where}` : ""}`}>
        <span data-testid="gpu">{gpu}</span>
        {where && <span className="text-slate-500"> · {where}</span>}
      </p>

      <div className={`${ROW.stats} mt-3 grid grid-cols-3 gap-3`}>
        <Figure label="Uptime" testId="uptime">
          <Uptime dep={dep} />
        </Figure>
        <Figure label="Cost so far" testId="cost-so-far">
          {usd(dep.cost.so_far_usd)}
        </Figure>
        <Figure label="Rate" testId="cost-rate">
          {perHour(dep.cost.per_hour_usd)}
        </Figure>
      </div>

      <div className={`${ROW.status} mt-3 overflow-hidden border-t border-slate-800 pt-3`}>
        <StatusLine dep={dep} />
      </div>

      <div className={`${ROW.actions} mt-2 flex items-center gap-1.5`} aria-busy={busy || undefined}>
        {(["stop", "start", "restart"] as const).map((name) => (
          <Button key={name} size="sm" className="h-8" onClick={() => run(name)} disabled={busy || !allowed[name]}>
            {pending === name && <span className="h-3 w-3 animate-spin rounded-full border-2 border-slate-500 border-t-sky-300" aria-hidden />}
            {ACTION_LABEL[name]}
          </Button>
        ))}
        <Button
          size="sm"
          variant="ghost"
          className="ml-auto h-8 text-rose-300! hover:bg-rose-950 hover:text-rose-200! disabled:text-slate-600!"
          onClick={() => setConfirming(true)}
          disabled={busy || !allowed.terminate}
        >
          Terminate
        </Button>
      </div>

      <div className={`${ROW.links} mt-2 flex items-center gap-2 border-t border-slate-800 pt-2`}>
        <Link href={`/deployments/${dep.id}#logs`} className={`${LINK_CLASS} -ml-2.5 text-slate-300 hover:bg-slate-800 hover:text-white`}>
          Logs
        </Link>
        {dep.links.comfyui && (
          <a
            href={dep.links.comfyui}
            target="_blank"
            rel="noopener noreferrer"
            className={`${LINK_CLASS} ml-auto bg-sky-500 text-slate-950 hover:bg-sky-400`}
          >
            Open ComfyUI
            <span aria-hidden>↗</span>
          </a>
        )}
      </div>

      {action.isError && (
        <div role="alert" data-testid="action-error" className="mt-2 flex items-start gap-2 rounded-md bg-rose-950/60 px-2.5 py-2 text-xs text-rose-100 ring-1 ring-rose-900">
          <p className="min-w-0 flex-1">
            Could not {action.variables?.action ?? "do that"}: {errorMessage(action.error)}
          </p>
          <button
            type="button"
            onClick={() => action.reset()}
            className="shrink-0 rounded px-1 text-rose-300 hover:text-white focus-visible:outline-2 focus-visible:outline-sky-400"
            aria-label="Dismiss error"
          >
            ×
          </button>
        </div>
      )}

      {confirming &&
        createPortal(
        <ConfirmDialog
          title={`Terminate ${dep.name}?`}
          confirmLabel="Terminate pod"
          danger
          busy={busy}
          onConfirm={() => run("terminate")}
          onCancel={() => setConfirming(false)}
        >
          <p>
            The pod <span className="font-medium text-white">{dep.name}</span> and its volume disk are deleted, with
            everything on them (installed nodes, downloaded models, outputs). Billing for it ends.
          </p>
          <p className="mt-2 text-slate-400">This cannot be undone.</p>
        </ConfirmDialog>,
          document.body,
        )}
    </Card>
  );
}

/** A card-shaped placeholder of exactly the card's height. */
export function DeploymentCardSkeleton() {
  return (
    <Card className="flex flex-col p-4" aria-hidden>
      <div className={`${ROW.head} flex items-center justify-between gap-2`}>
        <Skeleton className="h-4 w-32" />
        <Skeleton className="h-5 w-16 rounded-full" />
      </div>
      <div className={`${ROW.sub} flex items-center`}>
        <Skeleton className="h-3 w-48" />
      </div>
      <div className={`${ROW.stats} mt-3 grid grid-cols-3 gap-3`}>
        {[0, 1, 2].map((i) => (
          <div key={i} className="space-y-1.5">
            <Skeleton className="h-3 w-12" />
            <Skeleton className="h-4 w-16" />
          </div>
        ))}
      </div>
      <div className={`${ROW.status} mt-3 space-y-2 border-t border-slate-800 pt-3`}>
        <Skeleton className="h-3 w-40" />
        <Skeleton className="h-1.5 w-full" />
      </div>
      <div className={`${ROW.actions} mt-2 flex items-center gap-1.5`}>
        <Skeleton className="h-8 w-12" />
        <Skeleton className="h-8 w-12" />
        <Skeleton className="h-8 w-16" />
        <Skeleton className="ml-auto h-8 w-20" />
      </div>
      <div className={`${ROW.links} mt-2 flex items-center border-t border-slate-800 pt-2`}>
        <Skeleton className="h-4 w-10" />
      </div>
    </Card>
  );
}
