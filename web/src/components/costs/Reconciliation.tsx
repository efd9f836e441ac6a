/** The meter against RunPod's bill: totals, mismatches, pending hours, and the hourly rows. */
import { useState } from "react";
import type { Reconciliation as Report, ReconciliationRow } from "../../api/generated";
import { ApiError } from "../../api/http";
import { ago, usd } from "../../lib/format";
import { Button, EmptyState, ErrorState, Skeleton, Stat } from "../ui";
import { useReconciliation, useRefreshReconciliation } from "./queries";
import { num, shortTime } from "./range";
import { Section, TableScroll, TD, TD_NUM, TH, TH_NUM, WIDE_ONLY } from "./Section";

const STATUS: Record<ReconciliationRow["status"], { label: string; className: string }> = {
  match: { label: "Match", className: "bg-emerald-900/70 text-emerald-200" },
  mismatch: { label: "Mismatch", className: "bg-rose-900/80 text-rose-100" },
  pending: { label: "Pending", className: "bg-slate-700/60 text-slate-300" },
};

function pct(value: string | null): string {
  if (value === null) return "—";
  const n = num(value);
  return `${n > 0 ? "+" : ""}${n.toFixed(Math.abs(n) < 10 ? 1 : 0)}%`;
}

function signedUsd(value: string): string {
  const n = Math.round(num(value) * 1000) / 1000; // as shown: a millionth is no difference
  return n === 0 ? usd(0) : `${n > 0 ? "+" : "−"}${usd(Math.abs(n))}`;
}

function resourceName(row: ReconciliationRow): string {
  const id = row.pod_id ?? row.network_volume_id ?? "";
  if (row.kind === "network_volume") return `Volume ${row.deployment_name ?? id}`;
  return row.deployment_name ?? `Pod ${id}`;
}

/** What to tell people when RunPod's billing cannot be read at all. */
function unavailable(error: unknown): string {
  const detail = error instanceof ApiError || error instanceof Error ? error.message : "";
  return `RunPod's billing could not be read, so the meter cannot be checked against it right now${detail ? ` (${detail})` : ""}. Metering carries on; the comparison is retried every few minutes.`;
}

export function ReconciliationView({ report }: { report: Report }) {
  const [onlyMismatches, setOnlyMismatches] = useState(false);
  const rows = onlyMismatches ? report.rows.filter((r) => r.status === "mismatch") : report.rows;
  return (
    <div className="space-y-4">
      {report.error && (
        <p role="alert" className="rounded-lg bg-amber-950/60 p-3 text-sm text-amber-100 ring-1 ring-amber-900">
          Part of RunPod's billing could not be read: {report.error}
        </p>
      )}
      <div className="grid grid-cols-2 gap-x-4 gap-y-5 sm:grid-cols-3 lg:grid-cols-6">
        <Stat label="Metered" value={usd(report.totals.metered_usd)} hint="Settled hours" />
        <Stat label="Billed by RunPod" value={usd(report.totals.billed_usd)} hint="Settled hours" />
        <Stat label="Difference" value={signedUsd(report.totals.difference_usd)} hint={pct(report.totals.difference_pct)} />
        <Stat
          label="Mismatches"
          testId="reconciliation-mismatches"
          value={<span className={report.mismatches > 0 ? "text-rose-300" : undefined}>{report.mismatches}</span>}
          hint={`Over ${num(report.tolerance_pct)}% and ${usd(report.min_difference_usd)}`}
        />
        <Stat label="Pending" value={usd(report.pending.metered_usd)} hint={`Billed so far ${usd(report.pending.billed_usd)}`} />
        <Stat label="Unmanaged pods" value={usd(report.unmanaged_billed_usd)} hint="Billed, not ComfyHangar's" />
      </div>
      {report.rows.length === 0 ? (
        <EmptyState title="Nothing billed in this window">No pod or volume was metered or billed between {shortTime(report.start)} and {shortTime(report.end)}.</EmptyState>
      ) : (
        <div>
          <label className="mb-2 inline-flex items-center gap-2 text-sm text-slate-300">
            <input type="checkbox" className="h-4 w-4 accent-sky-500" checked={onlyMismatches} onChange={(e) => setOnlyMismatches(e.target.checked)} />
            Only mismatches
          </label>
          <TableScroll className="max-h-96 overflow-y-auto">
            <table className="w-full text-sm">
              <thead className="sticky top-0 bg-slate-900">
                <tr className="border-b border-slate-800">
                  <th scope="col" className={TH}>Resource</th>
                  <th scope="col" className={`${TH} ${WIDE_ONLY}`}>Hour</th>
                  <th scope="col" className={`${TH_NUM} ${WIDE_ONLY}`}>Metered</th>
                  <th scope="col" className={`${TH_NUM} ${WIDE_ONLY}`}>Billed</th>
                  <th scope="col" className={TH_NUM}>Difference</th>
                  <th scope="col" className={TH}>Status</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-800/70 text-slate-200">
                {rows.map((row) => {
                  const status = STATUS[row.status];
                  return (
                    <tr
                      key={`${row.kind}-${row.pod_id ?? row.network_volume_id}-${row.bucket_start}`}
                      data-testid="reconciliation-row"
                      data-status={row.status}
                      className={row.status === "mismatch" ? "bg-rose-950/50" : undefined}
                    >
                      <td className={`${TD} max-w-[10rem] truncate sm:max-w-[12rem]`} title={row.pod_id ?? row.network_volume_id ?? undefined}>
                        {resourceName(row)}
                        {/* On a phone the hour column is hidden: the hour goes under the name. */}
                        <span className="block text-xs text-slate-400 sm:hidden">{shortTime(row.bucket_start)}</span>
                      </td>
                      <td className={`${TD} text-slate-400 ${WIDE_ONLY}`}>{shortTime(row.bucket_start)}</td>
                      <td className={`${TD_NUM} ${WIDE_ONLY}`}>{usd(row.metered_usd, { precise: true })}</td>
                      <td className={`${TD_NUM} ${WIDE_ONLY}`}>{usd(row.billed_usd, { precise: true })}</td>
                      <td className={`${TD_NUM} ${row.status === "mismatch" ? "font-medium text-rose-200" : ""}`}>
                        {signedUsd(row.difference_usd)} <span className="text-xs text-slate-500">{pct(row.difference_pct)}</span>
                      </td>
                      <td className={TD}>
                        <span className={`rounded-full px-2 py-0.5 text-xs font-medium ${status.className}`}>{status.label}</span>
                      </td>
                    </tr>
                  );
                })}
                {rows.length === 0 && (
                  <tr>
                    <td colSpan={6} className="py-4 text-center text-slate-400">
                      No mismatches: every settled hour agrees with RunPod.
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
          </TableScroll>
        </div>
      )}
    </div>
  );
}

export function Reconciliation() {
  const query = useReconciliation();
  const refresh = useRefreshReconciliation();
  const report = query.data;
  const error = refresh.error ?? (query.isError ? query.error : null);
  return (
    <Section
      title="Meter vs RunPod billing"
      description={
        report
          ? `Hourly, ${shortTime(report.start)} – ${shortTime(report.end)}; checked ${ago(report.checked_at)}. Hours are compared ${num(report.settle_minutes)} min after they end.`
          : "What ComfyHangar metered against what RunPod billed, hour by hour"
      }
      actions={
        <Button size="sm" onClick={() => refresh.mutate()} disabled={refresh.isPending}>
          {refresh.isPending ? "Checking…" : "Check now"}
        </Button>
      }
    >
      <div data-testid="reconciliation" aria-busy={query.isFetching || refresh.isPending}>
        {error && !report ? (
          <ErrorState title="Billing unavailable" error={new Error(unavailable(error))} onRetry={() => refresh.mutate()} />
        ) : !report ? (
          <div aria-hidden className="space-y-4">
            <div className="grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-6">
              {Array.from({ length: 6 }, (_, i) => (
                <div key={i} className="space-y-2">
                  <Skeleton className="h-3 w-16" />
                  <Skeleton className="h-7 w-20" />
                  <Skeleton className="h-3 w-24" />
                </div>
              ))}
            </div>
            <Skeleton className="h-32 w-full" />
          </div>
        ) : (
          <>
            {refresh.isError && (
              <p role="alert" className="mb-3 text-sm text-rose-300">
                {unavailable(refresh.error)}
              </p>
            )}
            <ReconciliationView report={report} />
          </>
        )}
      </div>
    </Section>
  );
}
