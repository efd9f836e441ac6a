/** Spent today and this month, the burn rate, where it leads, and the RunPod balance. */
import { useCostSummary } from "../../api/queries";
import { usd, perHour } from "../../lib/format";
import { ErrorState, Skeleton, Stat } from "../ui";
import { Section } from "./Section";

function Value({ loading, children }: { loading: boolean; children: string }) {
  return loading ? <Skeleton className="h-7 w-24" /> : <>{children}</>;
}

export function CostSummaryCard() {
  const summary = useCostSummary();
  const data = summary.data;
  const loading = !data;
  return (
    <Section title="Summary" testId="costs-summary">
      {summary.isError && !data ? (
        <ErrorState title="Could not load the cost summary" error={summary.error} onRetry={() => void summary.refetch()} />
      ) : (
        <div className="grid grid-cols-2 gap-x-4 gap-y-5 sm:grid-cols-3 lg:grid-cols-5">
          <Stat label="Spent today" testId="costs-spent-today" value={<Value loading={loading}>{usd(data?.spent_today_usd)}</Value>} hint="UTC day so far" />
          <Stat label="This month" testId="costs-spent-month" value={<Value loading={loading}>{usd(data?.spent_this_month_usd)}</Value>} hint="UTC month so far" />
          <Stat
            label="Burn rate"
            testId="costs-burn-rate"
            value={<Value loading={loading}>{perHour(data?.burn_rate_per_hour_usd)}</Value>}
            hint={data ? `${data.deployments_billing} deployment${data.deployments_billing === 1 ? "" : "s"} billing` : "\u00a0"}
          />
          <Stat
            label="At this rate, 30 days"
            testId="costs-projection-month"
            value={<Value loading={loading}>{usd(data?.projections.month)}</Value>}
            hint={data ? `${usd(data.projections.day)} a day · ${usd(data.projections.week)} a week` : "\u00a0"}
          />
          <Stat
            label="RunPod balance"
            testId="costs-balance"
            value={<Value loading={loading}>{data?.balance_usd != null ? usd(data.balance_usd) : "—"}</Value>}
            hint={
              data ? (
                data.balance_usd != null ? (
                  "Account balance"
                ) : (
                  <span title={data.balance_detail ?? undefined}>
                    {data.simulated ? "Simulated cloud: no balance" : `Unavailable${data.balance_detail ? `: ${data.balance_detail}` : ""}`}
                  </span>
                )
              ) : (
                "\u00a0"
              )
            }
          />
        </div>
      )}
    </Section>
  );
}
