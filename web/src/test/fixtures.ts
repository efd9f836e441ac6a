/** Test data shaped like the API's answers, shared by every page's tests (not shipped: only tests import this). */
import type { CostSummary, DeploymentDetail, DeploymentView, OutputView, PodView, RunView, WorkflowDetail, WorkflowInput } from "../api/generated";

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

/** ComfyUI's default graph as the library lists it: a few of its inputs. */
export function workflowDetail(overrides: Partial<WorkflowDetail> = {}): WorkflowDetail {
  const inputs: WorkflowInput[] = [
    { key: "3.seed", node_id: "3", class_type: "KSampler", input: "seed", type: "INT", default: 7 },
    { key: "3.steps", node_id: "3", class_type: "KSampler", input: "steps", type: "INT", default: 20 },
    { key: "3.cfg", node_id: "3", class_type: "KSampler", input: "cfg", type: "FLOAT", default: 8 },
    { key: "4.ckpt_name", node_id: "4", class_type: "CheckpointLoaderSimple", input: "ckpt_name", type: "COMBO", default: "v1-5.safetensors" },
    { key: "6.text", node_id: "6", class_type: "CLIPTextEncode", input: "text", type: "STRING", default: "a red fox" },
  ];
  return {
    id: "a".repeat(32),
    name: "fox",
    description: "",
    tags: [],
    latest_version: 2,
    created_at: "2026-11-26T09:00:00Z",
    updated_at: "2026-11-26T09:30:00Z",
    inputs,
    versions: [
      { version: 2, source_format: "ui", has_api_prompt: true, inputs, note: "more steps", created_at: "2026-11-26T09:30:00Z" },
      { version: 1, source_format: "ui", has_api_prompt: true, inputs, note: "", created_at: "2026-11-26T09:00:00Z" },
    ],
    ...overrides,
  };
}

/** A run of that workflow on dep1, running node 3 at step 5 of 20. */
export function run(overrides: Partial<RunView> = {}): RunView {
  return {
    id: "run1",
    batch_id: "batch1",
    batch_index: 0,
    workflow_id: "a".repeat(32),
    workflow_version: 2,
    deployment_id: "dep1",
    server_id: null,
    overrides: {},
    prompt_id: "p1",
    state: "running",
    cancel_requested: false,
    progress: { node: "3", step: 5, steps: 20, percent: 40, nodes_done: 3, nodes_total: 7 },
    error: null,
    output_count: 0,
    created_at: "2026-11-26T10:00:00Z",
    submitted_at: "2026-11-26T10:00:01Z",
    started_at: "2026-11-26T10:00:02Z",
    finished_at: null,
    ...overrides,
  };
}

export function output(overrides: Partial<OutputView> = {}): OutputView {
  const id = overrides.id ?? "out1";
  return {
    id,
    run_id: "run1",
    node_id: "9",
    kind: "images",
    folder_type: "output",
    filename: `ComfyUI_${id}.png`,
    content_type: "image/png",
    size: 3600,
    sha256: "0".repeat(64),
    width: 512,
    height: 768,
    created_at: "2026-11-26T10:01:00Z",
    url: `/api/v1/outputs/${id}/content`,
    ...overrides,
  };
}
