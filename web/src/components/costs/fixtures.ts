/** API answers for the Costs tests, shaped like the server's. */
import type { BudgetView, CostHistory, CostSummary, CostsByDeployment, CostsByGpu, HistoryBucket, Reconciliation } from "../../api/generated";

const ZERO = { total_usd: "0.000000", gpu_usd: "0.000000", storage_usd: "0.000000", network_volume_usd: "0.000000" };

export function bucket(day: string, gpu: number, storage: number, complete = true): HistoryBucket {
  return {
    start: `${day}T00:00:00Z`,
    end: `${day}T23:59:59Z`,
    complete,
    total_usd: (gpu + storage).toFixed(6),
    gpu_usd: gpu.toFixed(6),
    storage_usd: storage.toFixed(6),
    network_volume_usd: "0.000000",
    by_deployment: [],
    by_gpu: [],
  };
}

export function history(buckets: HistoryBucket[]): CostHistory {
  const sum = (f: (b: HistoryBucket) => string) => buckets.reduce((s, b) => s + Number(f(b)), 0).toFixed(6);
  return {
    bucket: "day",
    start: buckets[0]?.start ?? "2026-11-01T00:00:00Z",
    end: buckets.at(-1)?.end ?? "2026-11-02T00:00:00Z",
    totals: { total_usd: sum((b) => b.total_usd), gpu_usd: sum((b) => b.gpu_usd), storage_usd: sum((b) => b.storage_usd), network_volume_usd: "0.000000" },
    deployments: [],
    gpu_types: [],
    buckets,
  };
}

export const summary: CostSummary = {
  simulated: true,
  spent_today_usd: "3.210000",
  spent_this_month_usd: "45.600000",
  burn_rate_per_hour_usd: "0.690000",
  network_volumes_per_hour_usd: "0.000000",
  projections: { hour: "0.69", day: "16.56", week: "115.92", month: "496.80" },
  deployments_billing: 1,
  balance_usd: null,
  balance_detail: "simulated cloud",
};

export const byDeployment: CostsByDeployment = {
  start: "2026-11-01T00:00:00Z",
  end: "2026-11-07T12:00:00Z",
  totals: { total_usd: "16.000000", gpu_usd: "14.000000", storage_usd: "2.000000", network_volume_usd: "0.000000" },
  deployments: [
    { deployment_id: "small", name: "small-one", total_usd: "1.000000", gpu_usd: "0.800000", storage_usd: "0.200000", network_volume_usd: "0" },
    { deployment_id: "big", name: "big-one", total_usd: "12.000000", gpu_usd: "11.000000", storage_usd: "1.000000", network_volume_usd: "0" },
    { deployment_id: "mid", name: null, total_usd: "3.000000", gpu_usd: "2.200000", storage_usd: "0.800000", network_volume_usd: "0" },
  ],
};

export const byGpu: CostsByGpu = {
  start: "2026-11-01T00:00:00Z",
  end: "2026-11-07T12:00:00Z",
  totals: { ...ZERO, total_usd: "16.000000", gpu_usd: "14.000000", storage_usd: "2.000000" },
  gpu_types: [
    { gpu_type_id: "NVIDIA RTX A4000", gpu_hours: "4.0", total_usd: "2.000000", gpu_usd: "1.600000", storage_usd: "0.400000", network_volume_usd: "0" },
    { gpu_type_id: "NVIDIA GeForce RTX 4090", gpu_hours: "20.0", total_usd: "14.000000", gpu_usd: "12.400000", storage_usd: "1.600000", network_volume_usd: "0" },
  ],
};

export function budget(over: Partial<BudgetView> = {}): BudgetView {
  return {
    id: "b1",
    name: "Monthly cap",
    deployment_id: null,
    period: "monthly",
    limit_usd: "100.000000",
    warn_at: [0.5, 0.8, 0.9],
    on_exceed: "stop",
    period_start: "2026-11-01T00:00:00Z",
    period_end: "2026-12-01T00:00:00Z",
    spent_usd: "45.600000",
    remaining_usd: "54.400000",
    state: "ok",
    ...over,
  };
}

export const report: Reconciliation = {
  checked_at: "2026-11-07T12:00:00Z",
  start: "2026-11-07T06:00:00Z",
  end: "2026-11-07T12:00:00Z",
  tolerance_pct: "1.00",
  min_difference_usd: "0.01",
  settle_minutes: "10",
  totals: { metered_usd: "2.000000", billed_usd: "2.100000", difference_usd: "-0.100000", difference_pct: "-4.76" },
  pending: { metered_usd: "0.300000", billed_usd: "0.000000", difference_usd: "0.300000", difference_pct: null },
  mismatches: 1,
  unmanaged_billed_usd: "0.000000",
  error: null,
  rows: [
    { kind: "pod", pod_id: "pod1", network_volume_id: null, deployment_id: "d1", deployment_name: "sdxl", bucket_start: "2026-11-07T06:00:00Z", bucket_end: "2026-11-07T07:00:00Z", metered_usd: "1.000000", billed_usd: "1.000000", difference_usd: "0", difference_pct: "0", status: "match" },
    { kind: "pod", pod_id: "pod1", network_volume_id: null, deployment_id: "d1", deployment_name: "sdxl", bucket_start: "2026-11-07T07:00:00Z", bucket_end: "2026-11-07T08:00:00Z", metered_usd: "1.000000", billed_usd: "1.100000", difference_usd: "-0.100000", difference_pct: "-9.09", status: "mismatch" },
    { kind: "pod", pod_id: "pod1", network_volume_id: null, deployment_id: "d1", deployment_name: "sdxl", bucket_start: "2026-11-07T11:00:00Z", bucket_end: "2026-11-07T12:00:00Z", metered_usd: "0.300000", billed_usd: "0", difference_usd: "0.300000", difference_pct: null, status: "pending" },
  ],
};
