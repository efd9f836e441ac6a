/** Test data shaped like the API's answers, shared by every page's tests (not shipped: only tests import this). */
import type { CostSummary, DeploymentDetail, DeploymentView, PodView } from "../api/generated";

/** A running pod, last seen at 10:05:00 with 125 s of uptime. */
export function pod(overrides: Partial<PodView> = {}): PodView {
  return {
    id: "pod1",
    status: "RUNNING",
    cost_per_hour: "0.88",
    data_center_id: "EU-RO-1",
    uptime_s: 125,
    gpu_util: [40, 60],
    gpu_memory_util: [30, 50],
    cpu_util: 20,
    memory_util: 10,
    last_seen_at: "2026-11-26T10:05:00Z",
    ...overrides,
  };
}

/** A ready deployment on two RTX 4090s, as `GET /deployments` lists it. */
export function deployment(overrides: Partial<DeploymentView> = {}): DeploymentView {
  const id = overrides.id ?? "dep1";
  return {
    id,
    name: "flux-dev",
    state: "ready",
    desired_state: "running",
    reason: null,
    simulated: true,
    gpu: { id: "NVIDIA GeForce RTX 4090", count: 2 },
    cloud: "SECURE",
    image: "runpod/pytorch",
    container_disk_gb: 50,
    volume_gb: 100,
    network_volume_id: null,
    created_at: "2026-11-26T10:00:00Z",
    updated_at: "2026-11-26T10:05:00Z",
    pod: pod(),
    setup: [],
    cost: {
      so_far_usd: "1.234567",
      per_hour_usd: "0.901000",
      metered_until: "2026-11-26T10:05:00Z",
      projections: { hour: "0.9", day: "21.6", week: "151.2", month: "648" },
    },
    idle: {
      policy: { mode: "stop", idle_minutes: 30, warn_minutes: 5, terminate_after_stopped_days: null, source: "default" },
      watching: true,
      last_activity_at: "2026-11-26T10:00:00Z",
      checked_at: "2026-11-26T10:05:00Z",
      keep_awake_until: null,
      warned_at: null,
      warn_at: "2026-11-26T10:25:00Z",
      acts_at: "2026-11-26T10:30:00Z",
      action: "stop",
      stopped_since: null,
      activity: [],
    },
    links: {
      self: `/api/v1/deployments/${id}`,
      logs: `/api/v1/deployments/${id}/logs`,
      events: `/api/v1/events?deployment_id=${id}`,
      comfyui: overrides.state === undefined || overrides.state === "ready" ? `/api/v1/deployments/${id}/open` : null,
    },
    ...overrides,
  };
}

/** The same deployment as `GET /deployments/{id}` answers it: with its state history. */
export function deploymentDetail(overrides: Partial<DeploymentDetail> = {}): DeploymentDetail {
  return { ...deployment(overrides), history: [], ...overrides };
}

export function costSummary(overrides: Partial<CostSummary> = {}): CostSummary {
  return {
    simulated: false,
    spent_today_usd: "4.5",
    spent_this_month_usd: "80.25",
    burn_rate_per_hour_usd: "1.35",
    network_volumes_per_hour_usd: "0",
    projections: { hour: "1.35", day: "32.4", week: "226.8", month: "972" },
    deployments_billing: 2,
    balance_usd: "123.45",
    balance_detail: null,
    ...overrides,
  };
}
