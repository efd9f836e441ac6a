/** The live cost estimate: asked of the server (POST /estimate) 300 ms after the inputs settle. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { estimateCost, type EstimateRequest } from "../../api/generated";
import { perHour, usd } from "../../lib/format";
import { errorMessage } from "../ui";

export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

export function useEstimate(request: EstimateRequest | null) {
  // A stable string so an equal request is one query, not a new one per render.
  const settled = useDebounced(request ? JSON.stringify(request) : null, 300);
  const query = useQuery({
    queryKey: ["estimate", settled],
    queryFn: ({ signal }) => estimateCost(JSON.parse(settled as string) as EstimateRequest, { signal }),
    enabled: settled !== null,
    placeholderData: keepPreviousData,
    staleTime: 60_000,
    retry: false,
  });
  const pending = request !== null && (JSON.stringify(request) !== settled || query.isFetching);
  return { ...query, data: request ? query.data : undefined, pending };
}

function Figure({ label, value, testId, big = false, className = "" }: { label: string; value: string; testId: string; big?: boolean; className?: string }) {
  return (
    <div className={`min-w-0 ${className}`}>
      <dt className="text-xs uppercase tracking-wide text-slate-500">{label}</dt>
      <dd data-testid={testId} className={`mt-0.5 truncate font-semibold tabular-nums text-white ${big ? "text-xl lg:text-2xl" : "text-base"}`}>
        {value}
      </dd>
    </div>
  );
}

export function EstimatePanel({ request, unpriced }: { request: EstimateRequest | null; unpriced: string | null }) {
  const estimate = useEstimate(request);
  const e = estimate.data;
  return (
    <div aria-live="polite" aria-busy={estimate.pending}>
      {/* On a phone (the sticky bar) one row: per hour, per day, stopped; the rest from lg up. */}
      <dl className={`grid grid-cols-3 gap-x-3 gap-y-3 transition-opacity lg:grid-cols-2 lg:gap-x-4 ${estimate.pending && e ? "opacity-60" : ""}`}>
        <div className="lg:col-span-2">
          <Figure big label="Per hour" value={e ? perHour(e.per_hour) : "—"} testId="estimate-per-hour" />
        </div>
        <Figure label="Per day" value={e ? usd(e.per_day) : "—"} testId="estimate-per-day" className="max-lg:self-end" />
        <Figure label="Per 30 days" value={e ? usd(e.per_month) : "—"} testId="estimate-per-month" className="max-lg:hidden" />
        <Figure label="Stopped" value={e ? perHour(e.stopped_per_hour) : "—"} testId="estimate-stopped-per-hour" className="max-lg:self-end" />
        <Figure label="Storage" value={e ? perHour(e.storage_per_hour) : "—"} testId="estimate-storage-per-hour" className="max-lg:hidden" />
      </dl>
      <p className={`mt-3 text-xs text-slate-500 lg:min-h-[2.5rem] ${unpriced || estimate.error ? "" : "max-lg:hidden"}`}>
        {unpriced ??
          (estimate.error && request
            ? `Could not estimate: ${errorMessage(estimate.error)}`
            : "A stopped pod keeps billing its disks until it is terminated.")}
      </p>
    </div>
  );
}
