/** Test helpers for the detail page's components (not shipped: only tests import this). */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import type { DeploymentDetail } from "../../api/generated";

export function renderWithClient(ui: ReactElement) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } } });
  return { client, ...render(<QueryClientProvider client={client}>{ui}</QueryClientProvider>) };
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": status >= 400 ? "application/problem+json" : "application/json" },
  });
}

export function detail(overrides: Partial<DeploymentDetail> = {}): DeploymentDetail {
  return {
    id: "dep1",
    name: "flux-dev",
    state: "ready",
    desired_state: "running",
    reason: null,
    simulated: true,
    gpu: { id: "NVIDIA GeForce RTX 4090", count: 2 },
    cloud: "SECURE",
    image: "runpod/pytorch:2.4.0",
    container_disk_gb: 50,
    volume_gb: 100,
    network_volume_id: null,
    created_at: "2026-11-26T08:00:00Z",
    updated_at: "2026-11-26T08:01:00Z",
    pod: {
      id: "pod1",
      status: "RUNNING",
      cost_per_hour: "1.38",
      data_center_id: "EU-RO-1",
      uptime_s: 120,
      gpu_util: [40, 60],
      gpu_memory_util: [10, 30],
      cpu_util: 25,
      memory_util: 50,
      last_seen_at: new Date().toISOString(),
    },
    setup: [],
    cost: {
      so_far_usd: "0.4321",
      per_hour_usd: "1.38",
      metered_until: "2026-11-26T08:01:00Z",
      projections: { hour: "1.38", day: "33.12", week: "231.84", month: "993.60" },
    },
    links: { self: "/api/v1/deployments/dep1", logs: "/api/v1/deployments/dep1/logs", events: "/api/v1/events?deployment_id=dep1", comfyui: "/api/v1/deployments/dep1/open" },
    history: [],
    ...overrides,
  };
}
