/**
 * The figures at the top of the dashboard: pods running, spend today, burn rate, balance.
 * The cost summary is refetched whenever costs change (the live layer invalidates `["costs"]`).
 * The burn rate adds up the cards' own rates (and the network volumes'): the server's figure
 * is the same sum, and this one changes in the same render as the card whose state changed.
 */
import type { DeploymentView } from "../../api/generated";
import { useCostSummary } from "../../api/queries";
import { burnRate } from "../../lib/cost";
import { perHour, usd } from "../../lib/format";
import { Button, Card, errorMessage, Skeleton, Stat } from "../ui";
import { runningCounts, runningHint } from "./logic";

const loading = <Skeleton className="h-7 w-20" />;

/** `deployments` is undefined while the list loads; `listFailed` turns its placeholder into "—". */
export function Summary({ deployments, listFailed = false }: { deployments: DeploymentView[] | undefined; listFailed?: boolean }) {
  const summary = useCostSummary();
  const data = summary.data;
  const counts = deployments ? runningCounts(deployments) : undefined;
  const running = counts?.running;
  const hint = counts ? runningHint(counts) : null;
  const costValue = (value: () => string) => (data ? value() : summary.isError ? "—" : loading);
  const burn = data && deployments ? burnRate(deployments, data.network_volumes_per_hour_usd) : null;

  return (
    <Card className="p-4" aria-label="Summary">
      <div className="grid grid-cols-2 gap-4 sm:grid-cols-4">
        <Stat
          label="Pods running"
          testId="summary-running"
          value={running === undefined ? (listFailed ? "—" : loading) : running}
          hint={
            hint ? (
              <span data-testid="summary-running-hint">
                <span className="block truncate">{hint.split}</span>
                {hint.stopped && <span className="block whitespace-normal text-slate-600">{hint.stopped}, not counted</span>}
              </span>
            ) : (
              "\u00a0"
            )
          }
        />
        <Stat
          label="Spend today"
          testId="summary-spend-today"
          value={costValue(() => usd(data!.spent_today_usd))}
          hint={data ? `${usd(data.spent_this_month_usd)} this month` : "\u00a0"}
        />
        <Stat
          label="Burn rate"
          testId="summary-burn-rate"
          value={burn === null ? (summary.isError || listFailed ? "—" : loading) : perHour(burn)}
          hint={burn === null ? "\u00a0" : `≈ ${usd(burn * 24)} per day`}
        />
        <Stat
          label="Balance"
          testId="summary-balance"
          value={costValue(() => (data!.balance_usd === null || data!.balance_usd === undefined ? "—" : usd(data!.balance_usd)))}
          hint={
            data
              ? data.balance_usd === null || data.balance_usd === undefined
                ? (data.balance_detail ?? "Not known yet")
                : data.simulated
                  ? "Simulated account"
                  : "RunPod account"
              : "\u00a0"
          }
        />
      </div>
      {summary.isError && (
        <div role="alert" className="mt-3 flex flex-wrap items-center gap-2 border-t border-slate-800 pt-3 text-sm text-rose-200">
          <span>Costs could not be loaded: {errorMessage(summary.error)}</span>
          <Button size="sm" onClick={() => void summary.refetch()}>
            Try again
          </Button>
        </div>
      )}
    </Card>
  );
}
