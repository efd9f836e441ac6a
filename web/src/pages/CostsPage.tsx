/**
 * The Costs page: what is being spent (summary, per day, per deployment, per GPU), the budgets
 * that cap it, and the meter checked against RunPod's bill. Every section loads and fails on
 * its own; live cost_update and budget events refresh them (their query keys start with
 * "costs" or "budgets").
 */
import { useMemo, useState } from "react";
import { ByDeployment, ByGpu } from "../components/costs/Breakdown";
import { Budgets } from "../components/costs/Budgets";
import { CostSummaryCard } from "../components/costs/CostSummary";
import { rangeStart, type RangeDays } from "../components/costs/range";
import { ExportLink, RangePicker } from "../components/costs/RangePicker";
import { Reconciliation } from "../components/costs/Reconciliation";
import { SpendByDay } from "../components/costs/SpendByDay";

export function CostsPage() {
  const [days, setDays] = useState<RangeDays>(30);
  // The window starts at a UTC midnight, so it only changes when the day does.
  const start = useMemo(() => rangeStart(days), [days]);
  return (
    <div className="space-y-5">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold text-white">Costs</h1>
          <p className="mt-1 text-sm text-slate-400">What your pods cost, where it goes, and the limits on it.</p>
        </div>
        <div className="flex flex-wrap items-center gap-2">
          <RangePicker days={days} onChange={setDays} />
          <ExportLink start={start} days={days} />
        </div>
      </div>
      <CostSummaryCard />
      <SpendByDay days={days} start={start} />
      <div className="grid gap-5 xl:grid-cols-2">
        <ByDeployment days={days} start={start} />
        <ByGpu days={days} start={start} />
      </div>
      <Budgets />
      <Reconciliation />
    </div>
  );
}
