/**
 * Spend per UTC day over the chosen range: a small hand-drawn SVG bar chart, GPU stacked under
 * storage. Each bar has a <title> (the tooltip) and a visually hidden table repeats the figures
 * for screen readers.
 */
import { useState } from "react";
import type { CostHistory, HistoryBucket } from "../../api/generated";
import { usd } from "../../lib/format";
import { EmptyState, ErrorState, Skeleton } from "../ui";
import { useCostHistory } from "./queries";
import { num, utcDay, type RangeDays } from "./range";
import { Section } from "./Section";

const HEIGHT = 100; // viewBox units; the SVG stretches to the box
const SLOT = 10;
const BAR = 7;

/** 1, 2 or 5 times a power of ten at or above `value`: a round top for the axis. */
export function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

export function barTitle(bucket: HistoryBucket): string {
  const day = utcDay(bucket.start, true);
  const suffix = bucket.complete ? "" : " (so far)";
  return `${day}: ${usd(bucket.total_usd)}${suffix} (GPU ${usd(bucket.gpu_usd)}, storage ${usd(bucket.storage_usd)})`;
}

function Legend() {
  return (
    <div className="flex items-center gap-3 text-xs text-slate-400">
      <span className="inline-flex items-center gap-1.5">
        <span className="h-2.5 w-2.5 rounded-sm bg-sky-400" aria-hidden /> GPU
      </span>
      <span className="inline-flex items-center gap-1.5">
        <span className="h-2.5 w-2.5 rounded-sm bg-violet-400" aria-hidden /> Storage
      </span>
    </div>
  );
}

export function DayChart({ history }: { history: CostHistory }) {
  const [active, setActive] = useState<number | null>(null);
  const buckets = history.buckets;
  const top = niceMax(Math.max(0, ...buckets.map((b) => num(b.total_usd))));
  const scale = (value: string) => (Math.max(0, num(value)) / top) * HEIGHT;
  const step = buckets.length <= 7 ? 1 : buckets.length <= 31 ? 7 : 15;
  const focus = active === null ? undefined : buckets[active];
  return (
    <div>
      <p className="mb-2 h-10 overflow-hidden text-sm text-slate-300 tabular-nums sm:h-5 sm:truncate" aria-live="polite">
        {focus ? (
          barTitle(focus)
        ) : (
          <>
            {usd(history.totals.total_usd)} in {buckets.length} days{" "}
            <span className="text-slate-500">
              (GPU {usd(history.totals.gpu_usd)}, storage {usd(history.totals.storage_usd)})
            </span>
          </>
        )}
      </p>
      <div className="flex gap-2">
        <div className="relative h-48 w-12 shrink-0 text-right text-[11px] tabular-nums text-slate-500" aria-hidden>
          <span className="absolute right-0 top-0 -translate-y-1/2">{usd(top)}</span>
          <span className="absolute right-0 top-1/2 -translate-y-1/2">{usd(top / 2)}</span>
          <span className="absolute bottom-0 right-0 translate-y-1/2">$0</span>
        </div>
        <div className="min-w-0 flex-1">
          <div className="relative h-48 border-b border-slate-700">
            <div className="pointer-events-none absolute inset-x-0 top-0 border-t border-dashed border-slate-800" aria-hidden />
            <div className="pointer-events-none absolute inset-x-0 top-1/2 border-t border-dashed border-slate-800" aria-hidden />
            <svg
              role="img"
              aria-label={`Spend per day, ${utcDay(buckets[0]?.start ?? history.start)} to ${utcDay(buckets.at(-1)?.start ?? history.end)}`}
              viewBox={`0 0 ${Math.max(1, buckets.length) * SLOT} ${HEIGHT}`}
              preserveAspectRatio="none"
              className="absolute inset-0 h-full w-full"
              onMouseLeave={() => setActive(null)}
            >
              {buckets.map((bucket, index) => {
                const gpu = scale(bucket.gpu_usd);
                const storage = scale(bucket.storage_usd);
                const x = index * SLOT + (SLOT - BAR) / 2;
                const dim = active !== null && active !== index;
                return (
                  <g
                    key={bucket.start}
                    data-testid="day-bar"
                    data-day={bucket.start.slice(0, 10)}
                    onMouseEnter={() => setActive(index)}
                    className={`transition-opacity ${dim ? "opacity-50" : ""} ${bucket.complete ? "" : "opacity-80"}`}
                  >
                    <title>{barTitle(bucket)}</title>
                    <rect x={index * SLOT} y={0} width={SLOT} height={HEIGHT} fill="transparent" />
                    <rect x={x} y={HEIGHT - gpu} width={BAR} height={gpu} className="fill-sky-400" />
                    <rect x={x} y={HEIGHT - gpu - storage} width={BAR} height={storage} className="fill-violet-400" />
                  </g>
                );
              })}
            </svg>
          </div>
          <div className="relative mt-1 h-4 text-[11px] text-slate-500" aria-hidden>
            {buckets.map((bucket, index) =>
              index % step === 0 && index <= buckets.length - Math.ceil(step / 2) ? (
                <span key={bucket.start} className="absolute whitespace-nowrap" style={{ left: `${(index / buckets.length) * 100}%` }}>
                  {utcDay(bucket.start)}
                </span>
              ) : null,
            )}
          </div>
        </div>
      </div>
      <table className="sr-only">
        <caption>Spend per UTC day</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">GPU</th>
            <th scope="col">Storage</th>
            <th scope="col">Total</th>
          </tr>
        </thead>
        <tbody>
          {buckets.map((bucket) => (
            <tr key={bucket.start}>
              <th scope="row">{utcDay(bucket.start, true)}</th>
              <td>{usd(bucket.gpu_usd)}</td>
              <td>{usd(bucket.storage_usd)}</td>
              <td>{usd(bucket.total_usd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function SpendByDay({ days, start }: { days: RangeDays; start: string }) {
  const history = useCostHistory(days, start);
  const data = history.data;
  return (
    <Section title="Spend by day" description="UTC days, GPU and storage" actions={<Legend />}>
      <div data-testid="spend-by-day" aria-busy={history.isFetching} className="min-h-[16.25rem] sm:min-h-[15rem]">
        {history.isError && !data ? (
          <ErrorState title="Could not load spend by day" error={history.error} onRetry={() => void history.refetch()} />
        ) : !data ? (
          <div aria-hidden>
            <Skeleton className="mb-2 h-10 w-64 max-w-full sm:h-5" />
            <Skeleton className="h-48 w-full" />
            <Skeleton className="mt-1 h-4 w-full" />
          </div>
        ) : num(data.totals.total_usd) === 0 ? (
          <div className="flex h-[16.25rem] items-center sm:h-[15rem] justify-center">
            <EmptyState title="No spend yet">Nothing was billed in the last {days} days.</EmptyState>
          </div>
        ) : (
          <DayChart history={data} />
        )}
      </div>
    </Section>
  );
}
