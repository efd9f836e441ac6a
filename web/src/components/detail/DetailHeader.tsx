/** Name, state, where it runs, uptime, and what the user can do to the deployment. */
import { useState } from "react";
import { Link } from "wouter";
import type { DeploymentDetail, PodView } from "../../api/generated";
import { useDeploymentAction, type DeploymentAction } from "../../api/queries";
import { duration } from "../../lib/format";
import { Button, ConfirmDialog, errorMessage, StateBadge } from "../ui";
import { allowedActions } from "../../lib/actions";
import { liveUptime } from "../../lib/uptime";
import { useNow } from "../../lib/useNow";
import { IdleClockLine, KeepAwake } from "../IdleClock";

function Uptime({ pod }: { pod: PodView | null }) {
  const now = useNow(pod?.status === "RUNNING");
  return <span data-testid="detail-uptime">{duration(liveUptime(pod, now))}</span>;
}

function Fact({ label, children, wide = false }: { label: string; children: React.ReactNode; wide?: boolean }) {
  return (
    <div className={`min-w-0 ${wide ? "col-span-2 sm:col-span-1" : ""}`}>
      <dt className="text-xs text-slate-500">{label}</dt>
      <dd className="truncate text-sm text-slate-200 tabular-nums">{children}</dd>
    </div>
  );
}

const ACTION_LABEL: Record<Exclude<DeploymentAction, "terminate">, string> = { stop: "Stop", start: "Start", restart: "Restart" };

function Actions({ dep }: { dep: DeploymentDetail }) {
  const action = useDeploymentAction();
  const [confirming, setConfirming] = useState(false);
  const allowed = allowedActions(dep);
  const busy = action.isPending ? action.variables?.action : undefined;
  const run = (what: DeploymentAction) =>
    action.mutate({ id: dep.id, action: what }, { onSuccess: () => what === "terminate" && setConfirming(false) });
  const comfyui = dep.links.comfyui;
  return (
    <div className="flex flex-col items-stretch gap-2 sm:items-end">
      <div className="flex flex-wrap gap-2 sm:justify-end">
        {comfyui && (
          <a
            href={comfyui}
            target="_blank"
            rel="noopener noreferrer"
            className="inline-flex items-center gap-1.5 rounded-md bg-sky-500 px-3.5 py-2 text-sm font-medium text-slate-950 hover:bg-sky-400 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-400"
          >
            Open ComfyUI <span aria-hidden>↗</span>
          </a>
        )}
        {(["stop", "start", "restart"] as const).map((what) => (
          <Button key={what} onClick={() => run(what)} disabled={!allowed[what] || action.isPending}>
            {busy === what ? `${ACTION_LABEL[what]}…` : ACTION_LABEL[what]}
          </Button>
        ))}
        <Button
          variant="danger"
          onClick={() => {
            action.reset();
            setConfirming(true);
          }}
          disabled={!allowed.terminate || action.isPending}
        >
          Terminate
        </Button>
      </div>
      {action.isError && !confirming && (
        <p role="alert" className="text-sm text-rose-300">
          Could not {action.variables?.action}: {errorMessage(action.error)}
        </p>
      )}
      {confirming && (
        <ConfirmDialog
          title={`Terminate ${dep.name}?`}
          confirmLabel="Terminate pod"
          danger
          busy={busy === "terminate"}
          onConfirm={() => run("terminate")}
          onCancel={() => setConfirming(false)}
        >
          <p>
            The pod and its volume disk are destroyed: ComfyUI, custom nodes and downloaded models on it are lost. Billing stops. This cannot be undone.
          </p>
          {action.isError && action.variables?.action === "terminate" && (
            <p role="alert" className="mt-3 text-rose-300">
              {errorMessage(action.error)}
            </p>
          )}
        </ConfirmDialog>
      )}
    </div>
  );
}

export function DetailHeader({ dep }: { dep: DeploymentDetail }) {
  const gpu = `${dep.gpu.count} × ${dep.gpu.id}`;
  return (
    <header className="space-y-4">
      <Link href="/" className="inline-flex items-center gap-1 rounded text-sm text-slate-400 hover:text-white focus-visible:outline-2 focus-visible:outline-sky-400">
        <span aria-hidden>←</span> Deployments
      </Link>
      <div className="flex flex-col gap-4 sm:flex-row sm:items-start sm:justify-between">
        <div className="min-w-0 space-y-3">
          <div className="flex flex-wrap items-center gap-3">
            <h1 className="min-w-0 break-all text-2xl font-semibold text-white">{dep.name}</h1>
            <span data-testid="detail-state">
              <StateBadge state={dep.state} />
            </span>
            {dep.desired_state !== "running" && dep.state !== dep.desired_state && dep.state !== "failed" && (
              <span className="text-xs text-slate-400">asked: {dep.desired_state === "stopped" ? "stop" : "terminate"}</span>
            )}
          </div>
          <dl className="grid grid-cols-2 gap-x-6 gap-y-2 sm:flex sm:flex-wrap">
            <Fact label="GPU" wide>
              <span title={gpu}>{gpu}</span>
            </Fact>
            <Fact label="Cloud">{dep.cloud === "SECURE" ? "Secure" : dep.cloud === "COMMUNITY" ? "Community" : dep.cloud}</Fact>
            <Fact label="Data center">{dep.pod?.data_center_id ?? "—"}</Fact>
            <Fact label="Uptime">
              <Uptime pod={dep.pod} />
            </Fact>
          </dl>
          <IdleClockLine dep={dep} className="text-sm" />
          <KeepAwake dep={dep} />
        </div>
        <Actions dep={dep} />
      </div>
      {dep.state === "failed" ? (
        <div role="alert" data-testid="detail-reason" className="rounded-lg bg-rose-950/60 px-4 py-3 text-sm text-rose-100 ring-1 ring-rose-900">
          <span className="font-medium">Failed: </span>
          {dep.reason ?? "no reason was given."}
        </div>
      ) : (
        dep.reason && (
          // A stop or terminate the system asked for (a budget): why, with its limit and spend.
          <p role="status" data-testid="detail-reason" className="rounded-lg bg-amber-950/50 px-4 py-3 text-sm text-amber-100 ring-1 ring-amber-900">
            {dep.reason.charAt(0).toUpperCase() + dep.reason.slice(1)}
          </p>
        )
      )}
    </header>
  );
}
