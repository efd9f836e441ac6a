/** Spend per deployment and per GPU type over the chosen range: tables with share bars. */
import { Link } from "wouter";
import type { DeploymentSpend, GpuSpend, SpendTotals } from "../../api/generated";
import { usd } from "../../lib/format";
import { EmptyState, ErrorState, Skeleton } from "../ui";
import { useCostsByDeployment, useCostsByGpu } from "./queries";
import { num, share, type RangeDays } from "./range";
import { Section, ShareBar, TableScroll, TD, TD_NUM, TH, TH_NUM, WIDE_ONLY } from "./Section";

/** Most expensive first (the server sends them so; sorting again keeps that true for any input). */
export function bySpend<T extends { total_usd: string }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => num(b.total_usd) - num(a.total_usd));
}

function TableSkeleton({ rows = 3 }: { rows?: number }) {
  return (
    <div aria-hidden className="space-y-3 py-1">
      <Skeleton className="h-4 w-full" />
      {Array.from({ length: rows }, (_, i) => (
        <Skeleton key={i} className="h-5 w-full" />
      ))}
    </div>
  );
}

/** Network volumes belong to no deployment or GPU type, yet count in the total. */
function NetworkVolumeRow({ totals }: { totals: SpendTotals }) {
  const amount = num(totals.network_volume_usd);
  if (amount <= 0) return null;
  const part = share(amount, num(totals.total_usd));
  return (
    <tr className="text-slate-400">
      <td className={TD}>Network volumes</td>
      <td className={`${TD_NUM} ${WIDE_ONLY}`}>—</td>
      <td className={`${TD_NUM} ${WIDE_ONLY}`}>{usd(amount)}</td>
      <td className={TD_NUM}>{usd(amount)}</td>
      <td className={TD}>
        <ShareBar ratio={part.ratio} label={part.label} tone="bg-violet-400" />
      </td>
    </tr>
  );
}

function TotalRow({ totals, children }: { totals: SpendTotals; children: React.ReactNode }) {
  return (
    <tr className="border-t border-slate-700 font-medium text-white">
      <th scope="row" className={`${TD} text-left`}>
        Total
      </th>
      {children}
      <td className={TD_NUM}>{usd(totals.total_usd)}</td>
      <td className={TD} />
    </tr>
  );
}

export function DeploymentTable({ deployments, totals }: { deployments: DeploymentSpend[]; totals: SpendTotals }) {
  const total = num(totals.total_usd);
  return (
    <table className="w-full text-sm">
      <thead>
        <tr className="border-b border-slate-800">
          <th scope="col" className={TH}>
            Deployment
          </th>
          <th scope="col" className={`${TH_NUM} ${WIDE_ONLY}`}>
            GPU
          </th>
          <th scope="col" className={`${TH_NUM} ${WIDE_ONLY}`}>
            Storage
          </th>
          <th scope="col" className={TH_NUM}>
            Total
          </th>
          <th scope="col" className={TH}>
            Share
          </th>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-800/70 text-slate-200">
        {bySpend(deployments).map((row) => {
          const part = share(num(row.total_usd), total);
          return (
            <tr key={row.deployment_id} data-testid="by-deployment-row">
              <td className={`${TD} max-w-[9rem] truncate sm:max-w-[14rem]`}>
                {row.name !== null ? (
                  <Link href={`/deployments/${row.deployment_id}`} className="rounded text-sky-300 hover:underline focus-visible:outline-2 focus-visible:outline-sky-400">
                    {row.name}
                  </Link>
                ) : (
                  <span className="text-slate-400" title={row.deployment_id}>
                    Deleted deployment
                  </span>
                )}
              </td>
              <td className={`${TD_NUM} ${WIDE_ONLY}`}>{usd(row.gpu_usd)}</td>
              <td className={`${TD_NUM} ${WIDE_ONLY}`}>{usd(row.storage_usd)}</td>
              <td className={`${TD_NUM} font-medium text-white`}>{usd(row.total_usd)}</td>
              <td className={TD}>
                <ShareBar ratio={part.ratio} label={part.label} />
              </td>
            </tr>
          );
        })}
        <NetworkVolumeRow totals={totals} />
      </tbody>
      <tfoot>
        <TotalRow totals={totals}>
          <td className={`${TD_NUM} ${WIDE_ONLY}`}>{usd(totals.gpu_usd)}</td>
          <td className={`${TD_NUM} ${WIDE_ONLY}`}>{usd(totals.storage_usd)}</td>
        </TotalRow>
      </tfoot>
    </table>
  );
}

export function GpuTable({ gpus, totals }: { gpus: GpuSpend[]; totals: SpendTotals }) {
  const total = num(totals.total_usd);
  return (
    <table className="w-full text-sm">
      <thead>
        <tr className="border-b border-slate-800">
          <th scope="col" className={TH}>
            GPU type
          </th>
          <th scope="col" className={`${TH_NUM} ${WIDE_ONLY}`}>
            GPU-hours
          </th>
          <th scope="col" className={`${TH_NUM} ${WIDE_ONLY}`}>
            Storage
          </th>
          <th scope="col" className={TH_NUM}>
            Total
          </th>
          <th scope="col" className={TH}>
            Share
          </th>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-800/70 text-slate-200">
        {bySpend(gpus).map((row) => {
          const part = share(num(row.total_usd), total);
          return (
            <tr key={row.gpu_type_id ?? "none"} data-testid="by-gpu-row">
              <td className={`${TD} max-w-[9rem] truncate sm:max-w-[12rem]`} title={row.gpu_type_id ?? undefined}>
                {row.gpu_type_id ?? <span className="text-slate-400">No GPU (storage)</span>}
              </td>
              <td className={`${TD_NUM} ${WIDE_ONLY}`}>{num(row.gpu_hours).toLocaleString("en-US", { maximumFractionDigits: 1 })} h</td>
              <td className={`${TD_NUM} ${WIDE_ONLY}`}>{usd(row.storage_usd)}</td>
              <td className={`${TD_NUM} font-medium text-white`}>{usd(row.total_usd)}</td>
              <td className={TD}>
                <ShareBar ratio={part.ratio} label={part.label} />
              </td>
            </tr>
          );
        })}
        <NetworkVolumeRow totals={totals} />
      </tbody>
      <tfoot>
        <TotalRow totals={totals}>
          <td className={`${TD_NUM} ${WIDE_ONLY}`}>
            {bySpend(gpus)
              .reduce((sum, row) => sum + num(row.gpu_hours), 0)
              .toLocaleString("en-US", { maximumFractionDigits: 1 })}{" "}
            h
          </td>
          <td className={`${TD_NUM} ${WIDE_ONLY}`}>{usd(totals.storage_usd)}</td>
        </TotalRow>
      </tfoot>
    </table>
  );
}

const MIN_BODY = "min-h-[11rem]";

export function ByDeployment({ days, start }: { days: RangeDays; start: string }) {
  const query = useCostsByDeployment(start);
  const data = query.data;
  return (
    <Section title="By deployment" description={`Last ${days} days, most expensive first`}>
      <div data-testid="by-deployment" aria-busy={query.isFetching} className={MIN_BODY}>
        {query.isError && !data ? (
          <ErrorState title="Could not load spend by deployment" error={query.error} onRetry={() => void query.refetch()} />
        ) : !data ? (
          <TableSkeleton />
        ) : num(data.totals.total_usd) === 0 ? (
          <EmptyState title="No spend yet">No deployment was billed in the last {days} days.</EmptyState>
        ) : (
          <TableScroll>
            <DeploymentTable deployments={data.deployments} totals={data.totals} />
          </TableScroll>
        )}
      </div>
    </Section>
  );
}

export function ByGpu({ days, start }: { days: RangeDays; start: string }) {
  const query = useCostsByGpu(start);
  const data = query.data;
  return (
    <Section title="By GPU type" description={`Last ${days} days, most expensive first`}>
      <div data-testid="by-gpu" aria-busy={query.isFetching} className={MIN_BODY}>
        {query.isError && !data ? (
          <ErrorState title="Could not load spend by GPU" error={query.error} onRetry={() => void query.refetch()} />
        ) : !data ? (
          <TableSkeleton />
        ) : num(data.totals.total_usd) === 0 ? (
          <EmptyState title="No spend yet">No GPU was billed in the last {days} days.</EmptyState>
        ) : (
          <TableScroll>
            <GpuTable gpus={data.gpu_types} totals={data.totals} />
          </TableScroll>
        )}
      </div>
    </Section>
  );
}
