/** Spend per deployment and per GPU type over the chosen range: tables with share bars. */
import type { UseQueryResult } from "@tanstack/react-query";
import type { ReactNode } from "react";
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

function TotalRow({ totals, children }: { totals: SpendTotals; children: ReactNode }) {
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

/** A column shown on wide screens only, between the name and the total: its cells and its total. */
interface WideColumn<T> {
  header: string;
  cell: (row: T) => ReactNode;
  total: (rows: T[], totals: SpendTotals) => ReactNode;
}

/** What a spend table lists: its rows' name column, the wide columns, and the rows' test hook. */
interface SpendTableConfig<T> {
  nameHeader: string;
  /** Tailwind max width of the name cell from `sm` up. */
  nameWidth: string;
  name: (row: T) => ReactNode;
  nameTitle?: (row: T) => string | undefined;
  key: (row: T) => string;
  rowTestId: string;
  wide: WideColumn<T>[];
}

const storageColumn: WideColumn<{ storage_usd: string }> = {
  header: "Storage",
  cell: (row) => usd(row.storage_usd),
  total: (_, totals) => usd(totals.storage_usd),
};

const hours = (h: number) => `${h.toLocaleString("en-US", { maximumFractionDigits: 1 })} h`;

/** Rows most expensive first, each with its share of the total; then network volumes and the total. */
function SpendTable<T extends { total_usd: string }>({ config, rows, totals }: { config: SpendTableConfig<T>; rows: T[]; totals: SpendTotals }) {
  const total = num(totals.total_usd);
  const sorted = bySpend(rows);
  return (
    <table className="w-full text-sm">
      <thead>
        <tr className="border-b border-slate-800">
          <th scope="col" className={TH}>
            {config.nameHeader}
          </th>
          {config.wide.map((column) => (
            <th key={column.header} scope="col" className={`${TH_NUM} ${WIDE_ONLY}`}>
              {column.header}
            </th>
          ))}
          <th scope="col" className={TH_NUM}>
            Total
          </th>
          <th scope="col" className={TH}>
            Share
          </th>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-800/70 text-slate-200">
        {sorted.map((row) => {
          const part = share(num(row.total_usd), total);
          return (
            <tr key={config.key(row)} data-testid={config.rowTestId}>
              <td className={`${TD} max-w-[9rem] truncate ${config.nameWidth}`} title={config.nameTitle?.(row)}>
                {config.name(row)}
              </td>
              {config.wide.map((column) => (
                <td key={column.header} className={`${TD_NUM} ${WIDE_ONLY}`}>
                  {column.cell(row)}
                </td>
              ))}
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
          {config.wide.map((column) => (
            <td key={column.header} className={`${TD_NUM} ${WIDE_ONLY}`}>
              {column.total(sorted, totals)}
            </td>
          ))}
        </TotalRow>
      </tfoot>
    </table>
  );
}

const DEPLOYMENT_TABLE: SpendTableConfig<DeploymentSpend> = {
  nameHeader: "Deployment",
  nameWidth: "sm:max-w-[14rem]",
  name: (row) =>
    row.name !== null ? (
      <Link href={`/deployments/${row.deployment_id}`} className="rounded text-sky-300 hover:underline focus-visible:outline-2 focus-visible:outline-sky-400">
        {row.name}
      </Link>
    ) : (
      <span className="text-slate-400" title={row.deployment_id}>
        Deleted deployment
      </span>
    ),
  key: (row) => row.deployment_id,
  rowTestId: "by-deployment-row",
  wide: [{ header: "GPU", cell: (row) => usd(row.gpu_usd), total: (_, totals) => usd(totals.gpu_usd) }, storageColumn],
};

const GPU_TABLE: SpendTableConfig<GpuSpend> = {
  nameHeader: "GPU type",
  nameWidth: "sm:max-w-[12rem]",
  name: (row) => row.gpu_type_id ?? <span className="text-slate-400">No GPU (storage)</span>,
  nameTitle: (row) => row.gpu_type_id ?? undefined,
  key: (row) => row.gpu_type_id ?? "none",
  rowTestId: "by-gpu-row",
  wide: [
    { header: "GPU-hours", cell: (row) => hours(num(row.gpu_hours)), total: (rows) => hours(rows.reduce((sum, row) => sum + num(row.gpu_hours), 0)) },
    storageColumn,
  ],
};

const MIN_BODY = "min-h-[11rem]";

/** One breakdown: its table once loaded, a skeleton before, and its error and empty states. */
function SpendSection<D extends { totals: SpendTotals }>({
  title,
  testId,
  what,
  days,
  query,
  table,
}: {
  title: string;
  testId: string;
  /** What a row is, in "Could not load spend by …" and "No … was billed". */
  what: string;
  days: RangeDays;
  query: UseQueryResult<D>;
  table: (data: D) => ReactNode;
}) {
  const data = query.data;
  return (
    <Section title={title} description={`Last ${days} days, most expensive first`}>
      <div data-testid={testId} aria-busy={query.isFetching} className={MIN_BODY}>
        {query.isError && !data ? (
          <ErrorState title={`Could not load spend by ${what}`} error={query.error} onRetry={() => void query.refetch()} />
        ) : !data ? (
          <TableSkeleton />
        ) : num(data.totals.total_usd) === 0 ? (
          <EmptyState title="No spend yet">
            No {what} was billed in the last {days} days.
          </EmptyState>
        ) : (
          <TableScroll>{table(data)}</TableScroll>
        )}
      </div>
    </Section>
  );
}

export function ByDeployment({ days, start }: { days: RangeDays; start: string }) {
  const query = useCostsByDeployment(start);
  return (
    <SpendSection title="By deployment" testId="by-deployment" what="deployment" days={days} query={query} table={(data) => <SpendTable config={DEPLOYMENT_TABLE} rows={data.deployments} totals={data.totals} />} />
  );
}

export function ByGpu({ days, start }: { days: RangeDays; start: string }) {
  const query = useCostsByGpu(start);
  return <SpendSection title="By GPU type" testId="by-gpu" what="GPU" days={days} query={query} table={(data) => <SpendTable config={GPU_TABLE} rows={data.gpu_types} totals={data.totals} />} />;
}
