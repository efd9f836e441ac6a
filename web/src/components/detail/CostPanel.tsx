/** What the deployment has cost so far, its rate, and what that rate costs ahead. */
import type { DeploymentDetail } from "../../api/generated";
import { rateHint } from "../../lib/cost";
import { clockTime, perHour, usd } from "../../lib/format";
import { Stat } from "../ui";

const PROJECTIONS = [
  { key: "hour", label: "Next hour" },
  { key: "day", label: "Next day" },
  { key: "week", label: "Next week" },
  { key: "month", label: "Next 30 days" },
] as const;

function meteredUntil(iso: string | null): string {
  if (!iso) return "not metered yet";
  return `metered until ${clockTime(iso)}`;
}

export function CostPanel({ dep }: { dep: Pick<DeploymentDetail, "cost" | "simulated" | "state" | "pod"> }) {
  const { cost } = dep;
  return (
    <div className="space-y-4">
      <div className="grid grid-cols-2 gap-4">
        <Stat
          label="Cost so far"
          value={usd(cost.so_far_usd)}
          testId="detail-cost-so-far"
          hint={<span title={cost.metered_until ? clockTime(cost.metered_until, { date: "always" }) : undefined}>{meteredUntil(cost.metered_until)}</span>}
        />
        <Stat label="Rate" value={perHour(cost.per_hour_usd)} testId="detail-cost-rate" hint={rateHint(dep)} />
      </div>
      <div>
        <p className="text-xs uppercase tracking-wide text-slate-500">At this rate</p>
        <dl className="mt-2 grid grid-cols-2 gap-x-4 gap-y-2 sm:grid-cols-4 lg:grid-cols-2 xl:grid-cols-4">
          {PROJECTIONS.map(({ key, label }) => (
            <div key={key} className="rounded-lg bg-slate-950/60 px-3 py-2 ring-1 ring-slate-800" data-testid={`detail-projection-${key}`}>
              <dt className="text-xs text-slate-500">{label}</dt>
              <dd className="text-sm font-semibold tabular-nums text-slate-100">{usd(cost.projections[key])}</dd>
            </div>
          ))}
        </dl>
      </div>
      {dep.simulated && (
        <p className="text-xs text-amber-300/90">Simulated cloud: these amounts are what RunPod would charge; nothing is billed.</p>
      )}
    </div>
  );
}
