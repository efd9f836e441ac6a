// Generated from the server's OpenAPI by web/scripts/generate_api.py. Do not edit by hand:
// run `uv run python web/scripts/generate_api.py` after changing the API.
/* eslint-disable */
import { request, type RequestOptions } from "./http";

// ---- schemas ----

export interface AccountPod {
  id: string;
  name: string;
  status: string;
  deployment_id: string | null;
  managed: boolean;
  gpu_type_id: string | null;
  gpu_count: number;
  cost_per_hour: string;
  data_center_id: string | null;
  first_seen_at: string;
}

export interface AccountPods {
  pods: AccountPod[];
}

/** What one activity source said at the guard's last look. */
export interface ActivityView {
  source: string;
  active: boolean;
  reason: string;
  /** The source could not be read (counted as active) */
  unreadable: boolean;
}

export interface AuditList {
  entries: AuditView[];
}

export interface AuditView {
  id: number;
  at: string;
  actor_id: string | null;
  actor_name: string | null;
  via: string | null;
  address: string | null;
  method: string;
  path: string;
  status: number;
  outcome: "ok" | "refused" | "failed";
  subject: string | null;
}

/** RunPod billed a bucket differently from the meter (beyond the tolerance). */
export interface BillingMismatchData {
  kind: "pod" | "network_volume";
  network_volume_id: string | null;
  bucket_start: string;
  bucket_end: string;
  metered_usd: string;
  billed_usd: string;
  difference_usd: string;
  difference_pct: string | null;
}

export interface Body_add_workflow_version {
  /** A workflow file: JSON in the UI format (what the editor saves) or the API format (Export (API)), or a PNG/WebP that ComfyUI wrote (it carries both); at most 32 MB */
  file: string;
  /** What changed */
  note?: string;
}

export interface Body_create_workflow {
  /** A workflow file: JSON in the UI format (what the editor saves) or the API format (Export (API)), or a PNG/WebP that ComfyUI wrote (it carries both); at most 32 MB */
  file: string;
  /** Unique in the library */
  name: string;
  description?: string;
  /** Comma separated */
  tags?: string;
}

export interface Body_import_workflow {
  /** A file that GET /workflows/{id}/export made */
  file: string;
  name?: string | null;
}

export interface Body_upload_input_file {
  /** The file, at most 32 MB */
  file: string;
  deployment_id?: string | null;
  server_id?: string | null;
}

export interface BudgetCreate {
  name: string;
  /** Omit for a budget over every deployment */
  deployment_id?: string | null;
  period?: "daily" | "monthly";
  limit_usd: number | string;
  warn_at?: number[];
  /** What the cap does: only warn, stop, or terminate the pods */
  on_exceed?: "warn" | "stop" | "terminate";
}

/** Spending reached a budget's limit; `action` is what the budget does about it. */
export interface BudgetExceededData {
  budget_id: string;
  name: string;
  /** The budget period (`2026-12` or `2026-12-04`) */
  period: string;
  limit_usd: string;
  spent_usd: string;
  action: "warn" | "stop" | "terminate";
}

export interface BudgetList {
  budgets: BudgetView[];
}

export interface BudgetUpdate {
  name?: string | null;
  limit_usd?: number | string | null;
  warn_at?: number[] | null;
  on_exceed?: "warn" | "stop" | "terminate" | null;
}

export interface BudgetView {
  id: string;
  name: string;
  deployment_id: string | null;
  period: "daily" | "monthly";
  limit_usd: string;
  warn_at: number[];
  on_exceed: "warn" | "stop" | "terminate";
  period_start: string;
  period_end: string;
  spent_usd: string;
  remaining_usd: string;
  state: "ok" | "warning" | "exceeded";
}

/** Spending crossed one of a budget's warning thresholds (once per threshold and period). */
export interface BudgetWarningData {
  budget_id: string;
  name: string;
  /** The budget period (`2026-12` or `2026-12-04`) */
  period: string;
  limit_usd: string;
  spent_usd: string;
  threshold: number;
}

export interface ComponentHealth {
  ok: boolean;
  detail?: string | null;
}

/** A UI workflow to convert, and whose nodes to convert it against (one at most; none: the reference node set of ComfyUI 0.3.64). */
export interface ConvertRequest {
  /** The UI-format workflow (what the editor saves) */
  workflow: Record<string, unknown>;
  deployment_id?: string | null;
  server_id?: string | null;
  /** An inline `/object_info` answer */
  object_info?: Record<string, unknown> | null;
}

export interface ConvertResult {
  /** The API prompt `POST /prompt` takes */
  prompt: Record<string, unknown>;
  inputs: WorkflowInput[];
  against: "deployment" | "server" | "inline" | "reference";
}

export interface CostHistory {
  bucket: "hour" | "day" | "week" | "month";
  start: string;
  end: string;
  currency?: "USD";
  totals: SpendTotals;
  /** Series, most expensive first */
  deployments: DeploymentAmount[];
  /** Series, most expensive first */
  gpu_types: GpuAmount[];
  /** Oldest first, with no gaps */
  buckets: HistoryBucket[];
}

/** What the current rate costs over the next hour, day, week and 30 days. */
export interface CostProjections {
  hour: string;
  day: string;
  week: string;
  month: string;
}

export interface CostSummary {
  simulated: boolean;
  spent_today_usd: string;
  spent_this_month_usd: string;
  /** What everything costs per hour now: every deployment's own `cost.per_hour_usd`, plus the network volumes */
  burn_rate_per_hour_usd: string;
  /** The network volumes' part of the burn rate (they bill on their own) */
  network_volumes_per_hour_usd: string;
  projections: CostProjections;
  deployments_billing: number;
  /** RunPod account balance (GraphQL), cached ~60 s; null if unread */
  balance_usd?: string | null;
  /** Why the balance could not be read (null when it was) */
  balance_detail?: string | null;
}

/** The meter recorded more cost for the deployment. */
export interface CostUpdateData {
  /** What the meter billed up to `metered_until` (one reconcile cycle ago at most); never goes down */
  so_far_usd: string;
  /** What it costs per hour in its state now: GPU while the pod runs, storage by the pod's status (the volume while stopped), 0 once terminated */
  per_hour_usd: string;
  metered_until: string | null;
  projections: CostProjections;
  /** The pod's RunPod status, None without a pod */
  status: string | null;
}

export interface CostsByDeployment {
  start: string;
  end: string;
  totals: SpendTotals;
  /** Most expensive first */
  deployments: DeploymentSpend[];
}

export interface CostsByGpu {
  start: string;
  end: string;
  totals: SpendTotals;
  /** Most expensive first */
  gpu_types: GpuSpend[];
}

export interface CreateAttemptData {
  /** The GPU type and cloud tried */
  candidate: string;
  result: string;
  detail: string;
}

export interface DataCenterStock {
  id: string;
  availability: string;
}

export interface DeploymentAmount {
  deployment_id: string;
  /** The deployment's name (null if it was deleted) */
  name: string | null;
  amount_usd: string;
}

export interface DeploymentCostView {
  /** What the meter billed up to `metered_until` (one reconcile cycle ago at most); never goes down */
  so_far_usd: string;
  /** What it costs per hour in its state now: GPU while the pod runs, storage by the pod's status (the volume while stopped), 0 once terminated */
  per_hour_usd: string;
  metered_until: string | null;
  projections: CostProjections;
}

/** What a user asks for: a pod with ComfyUI, its GPU, disks, image, install manifest. */
export interface DeploymentCreate {
  /** 1-40 characters: letters, digits, '.', '_', '-'; starts alphanumeric */
  name: string;
  gpu: GpuRequest;
  fallback_gpu_ids?: string[];
  cloud?: "SECURE" | "COMMUNITY";
  data_center_ids?: string[];
  container_disk_gb?: number;
  volume_gb?: number | null;
  network_volume_id?: string | null;
  image?: string;
  /** Start from this preset (GET /api/v1/presets) */
  preset?: string | null;
  /** What to install (schema: the pod agent's manifest); with a preset, what to add to it */
  manifest?: Record<string, unknown>;
  /** Environment variables for the pod; names that steer git, pip, Python, the loader or downloads are refused (docs/api.md) */
  env?: Record<string, unknown>;
  /** Write-only: Hugging Face token for gated models (never shown again) */
  hf_token?: string | null;
  /** Write-only: Civitai API token (never shown again) */
  civitai_token?: string | null;
  /** Idle policy: what is left out follows the server default (HANGAR_IDLE_*) */
  idle?: IdlePolicyInput | null;
}

/** A deployment was accepted; its pod is created next. */
export interface DeploymentCreatedData {
  name: string;
  /** The first-choice GPU type id */
  gpu: string;
  gpu_count: number;
}

export interface DeploymentDetail {
  id: string;
  name: string;
  state: DeploymentState;
  desired_state: Desired;
  reason: string | null;
  /** True when the cloud is the built-in emulator: nothing bills */
  simulated: boolean;
  gpu: GpuView;
  cloud: string;
  image: string;
  container_disk_gb: number;
  volume_gb: number | null;
  network_volume_id: string | null;
  created_at: string;
  updated_at: string;
  pod: PodView | null;
  setup: SetupStep[];
  cost: DeploymentCostView;
  idle: IdleView;
  links: DeploymentLinks;
  history: StateChange[];
}

export interface DeploymentLinks {
  self: string;
  logs: string;
  events: string;
  comfyui?: string | null;
}

export interface DeploymentList {
  deployments: DeploymentView[];
}

/** Someone asked a deployment to start, stop, restart or terminate. */
export interface DeploymentRequestedData {
  action: "start" | "stop" | "restart" | "terminate";
  source: "user" | "budget" | "idle";
  reason: string | null;
  /** The state the request put the deployment in, if it changed it */
  state?: DeploymentState | null;
}

export interface DeploymentSpend {
  /** gpu_usd + storage_usd */
  total_usd: string;
  /** GPU compute */
  gpu_usd: string;
  /** Container and volume disks, and network volumes */
  storage_usd: string;
  /** Network volumes (part of storage_usd; the account's, in no deployment) */
  network_volume_usd: string;
  deployment_id: string;
  name: string | null;
}

export type DeploymentState = "pending" | "creating" | "provisioning" | "starting" | "installing" | "ready" | "stopping" | "stopped" | "restarting" | "terminating" | "terminated" | "failed";

export const DeploymentStateValues = ["pending", "creating", "provisioning", "starting", "installing", "ready", "stopping", "stopped", "restarting", "terminating", "terminated", "failed"] as const satisfies readonly DeploymentState[];

/** A deployment's state changed (committed with the change itself). */
export interface DeploymentStateData {
  state: DeploymentState;
  previous: DeploymentState | null;
  reason: string | null;
  /** The deployment's cost in the new state (the rate changes with it) */
  cost: DeploymentCostView | null;
}

/** A deployment as the API shows it. */
export interface DeploymentView {
  id: string;
  name: string;
  state: DeploymentState;
  desired_state: Desired;
  reason: string | null;
  /** True when the cloud is the built-in emulator: nothing bills */
  simulated: boolean;
  gpu: GpuView;
  cloud: string;
  image: string;
  container_disk_gb: number;
  volume_gb: number | null;
  network_volume_id: string | null;
  created_at: string;
  updated_at: string;
  pod: PodView | null;
  setup: SetupStep[];
  cost: DeploymentCostView;
  idle: IdleView;
  links: DeploymentLinks;
}

/** What the user wants the pod to be. */
export type Desired = "running" | "stopped" | "terminated";

export const DesiredValues = ["running", "stopped", "terminated"] as const satisfies readonly Desired[];

/** Something failed for the deployment (reported once while it lasts). */
export interface ErrorData {
  message: string;
}

export interface Estimate {
  /** One GPU, list price in the chosen cloud */
  gpu_price_per_hour: string;
  gpu_per_hour: string;
  storage_per_hour: string;
  per_hour: string;
  per_day: string;
  /** 30 days of running */
  per_month: string;
  /** What a stopped pod still costs (storage) */
  stopped_per_hour: string;
  hours: string;
  for_hours: string;
}

export interface EstimateRequest {
  gpu: GpuRequest;
  cloud?: "SECURE" | "COMMUNITY";
  container_disk_gb?: number;
  volume_gb?: number;
  network_volume_gb?: number;
  hours?: number | string;
}

/** The type of an event: the `event:` line of its SSE message and its `type` field. */
export type EventType = "deployment_created" | "deployment_requested" | "deployment_state" | "pod_created" | "pod_adopted" | "pod_status" | "pod_action" | "pod_terminated" | "setup_progress" | "cost_update" | "budget_warning" | "budget_exceeded" | "billing_mismatch" | "idle_warning" | "idle_warning_withdrawn" | "idle_action" | "idle_keep_awake" | "idle_policy_changed" | "run_queued" | "run_progress" | "run_output" | "run_finished" | "error";

export const EventTypeValues = ["deployment_created", "deployment_requested", "deployment_state", "pod_created", "pod_adopted", "pod_status", "pod_action", "pod_terminated", "setup_progress", "cost_update", "budget_warning", "budget_exceeded", "billing_mismatch", "idle_warning", "idle_warning_withdrawn", "idle_action", "idle_keep_awake", "idle_policy_changed", "run_queued", "run_progress", "run_output", "run_finished", "error"] as const satisfies readonly EventType[];

export interface FieldProblem {
  /** Dotted path of the bad field, e.g. `gpu.count`, or `body` */
  field: string;
  message: string;
}

export interface GpuAmount {
  gpu_type_id: string | null;
  amount_usd: string;
}

export interface GpuCatalog {
  cloud: string;
  gpus: GpuOffer[];
}

export interface GpuMaxCount {
  secure: number;
  community: number;
}

export interface GpuOffer {
  id: string;
  name: string;
  manufacturer: string;
  vram_gb: number;
  tier: Tier;
  price_per_hour: GpuPrices;
  max_count: GpuMaxCount;
  availability: string;
  data_centers: DataCenterStock[];
}

export interface GpuPrices {
  secure: string | null;
  community: string | null;
}

export interface GpuRequest {
  /** RunPod GPU type id, e.g. 'NVIDIA GeForce RTX 4090' */
  id: string;
  count?: number;
}

export interface GpuSpend {
  /** gpu_usd + storage_usd */
  total_usd: string;
  /** GPU compute */
  gpu_usd: string;
  /** Container and volume disks, and network volumes */
  storage_usd: string;
  /** Network volumes (part of storage_usd; the account's, in no deployment) */
  network_volume_usd: string;
  gpu_type_id: string | null;
  /** GPU-hours billed (GPU count x hours running) */
  gpu_hours: string;
}

export interface GpuView {
  id: string;
  count: number;
}

/** One event of the live stream (`GET /events`): its type and its data */
export type HangarEvent = {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "deployment_created";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: DeploymentCreatedData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "deployment_requested";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: DeploymentRequestedData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "deployment_state";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: DeploymentStateData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "pod_created";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: PodCreatedData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "pod_adopted";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: PodAdoptedData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "pod_status";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: PodStatusData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "pod_action";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: PodActionData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "pod_terminated";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: PodTerminatedData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "setup_progress";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: SetupProgressData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "cost_update";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: CostUpdateData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "budget_warning";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: BudgetWarningData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "budget_exceeded";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: BudgetExceededData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "billing_mismatch";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: BillingMismatchData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "idle_warning";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: IdleWarningData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "idle_warning_withdrawn";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: IdleWarningWithdrawnData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "idle_action";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: IdleActionData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "idle_keep_awake";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: IdleKeepAwakeData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "idle_policy_changed";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: IdlePolicyChangedData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "run_queued";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: RunQueuedData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "run_progress";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: RunProgressData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "run_output";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: RunOutputData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "run_finished";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: RunFinishedData;
} | {
  /** Increasing; resume with `Last-Event-ID` or `?after=` */
  id: number;
  type: "error";
  time: string;
  deployment_id: string | null;
  pod_id: string | null;
  data: ErrorData;
};

export interface Health {
  status: "ok" | "degraded";
  version: string;
  simulated: boolean;
  database: ComponentHealth;
  runpod: ComponentHealth;
  reconciler: ReconcilerHealth;
}

export interface HistoryBucket {
  /** gpu_usd + storage_usd */
  total_usd: string;
  /** GPU compute */
  gpu_usd: string;
  /** Container and volume disks, and network volumes */
  storage_usd: string;
  /** Network volumes (part of storage_usd; the account's, in no deployment) */
  network_volume_usd: string;
  start: string;
  end: string;
  /** False for the bucket still in progress (or cut short) */
  complete: boolean;
  /** Every deployment of the window, in the order of `deployments`, 0 if idle; with network_volume_usd they add up to total_usd */
  by_deployment: DeploymentAmount[];
  /** Every GPU type of the window, in the order of `gpu_types`, 0 if idle */
  by_gpu: GpuAmount[];
}

/** The idle guard stopped or terminated the pod (the stop itself follows as a request). */
export interface IdleActionData {
  action: "stop" | "terminate";
  reason: string;
  /** Hours since the last activity */
  idle_hours: number;
  last_activity_at: string;
  /** The rate the action saves, per hour */
  saved_per_hour_usd: string;
}

/** A user asked that the pod be kept awake until `until`. */
export interface IdleKeepAwakeData {
  until: string;
  minutes: number;
}

/** What the guard does to a pod idle for `idle_minutes`. */
export type IdleMode = "stop" | "terminate" | "off";

export const IdleModeValues = ["stop", "terminate", "off"] as const satisfies readonly IdleMode[];

/** The deployment's idle policy is now this. */
export interface IdlePolicyChangedData {
  mode: "stop" | "terminate" | "off";
  idle_minutes: number;
  warn_minutes: number;
  terminate_after_stopped_days: number | null;
}

/** An idle policy, or the fields of one to change: what is left out stays as it is (at deploy: the server default). The whole policy is checked (`warn_minutes` below `idle_minutes`) and a bad value is a 422 naming the field. */
export interface IdlePolicyInput {
  /** stop or terminate a pod idle for idle_minutes; off: never */
  mode?: IdleMode | null;
  /** Minutes without activity before the idle action (1 to a week) */
  idle_minutes?: number | null;
  /** Minutes of warning before it (less than idle_minutes) */
  warn_minutes?: number | null;
  /** Terminate the deployment once it has been stopped this many days */
  terminate_after_stopped_days?: number | null;
  /** Clear terminate_after_stopped_days (a stopped deployment stays) */
  never_terminate_when_stopped?: boolean;
}

export interface IdlePolicyView {
  mode: IdleMode;
  idle_minutes: number;
  warn_minutes: number;
  terminate_after_stopped_days: number | null;
  /** deployment: set for it; default: the server's (HANGAR_IDLE_*) */
  source: "deployment" | "default";
}

/** The idle clock. Every figure is a moment: a countdown is computed from them (the dashboard does it locally, without asking again). */
export interface IdleView {
  policy: IdlePolicyView;
  /** The guard counts idle time now (the deployment is ready, policy not off) */
  watching: boolean;
  /** The last moment anything used the pod (setup counts); idle since then */
  last_activity_at: string | null;
  /** The guard's last look */
  checked_at: string | null;
  keep_awake_until: string | null;
  /** The idle warning given, if any */
  warned_at: string | null;
  /** When the warning comes, if nothing happens */
  warn_at: string | null;
  /** When the guard stops or terminates the pod, if nothing happens */
  acts_at: string | null;
  /** What happens at acts_at (terminate for a deployment stopped too long) */
  action: "stop" | "terminate" | null;
  stopped_since: string | null;
  /** Each source at the last look; an active one keeps the pod awake */
  activity: ActivityView[];
}

/** Nobody used the pod: the idle action comes at `acts_at` unless something happens. */
export interface IdleWarningData {
  action: "stop" | "terminate";
  acts_at: string;
  seconds_left: number;
  idle_since: string;
  reason: string;
}

/** Activity came after a warning: the idle action is off until the pod is idle again. */
export interface IdleWarningWithdrawnData {
  reason: string;
}

export interface InputFileView {
  /** The name ComfyUI gave it (it renames on a clash) */
  name: string;
  subfolder: string;
  type: string;
  /** What to set a LoadImage-style input to (`overrides`: `{"10.image": ...}`) */
  reference: string;
}

export interface InviteAccept {
  invite: string;
  name: string;
  password: string;
}

export interface InviteCreate {
  role?: Role;
}

export interface KeepAwakeRequest {
  /** Keep the pod from idle actions this long (1 to 1440) */
  minutes: number;
}

/** A one-time link to open in a browser (it signs in, or accepts an invite), once. */
export interface LinkView {
  url: string;
  expires_at: string;
}

export interface LogLineView {
  id: number;
  ts: string;
  source: string;
  line: string;
}

export interface LogTail {
  deployment_id: string;
  lines: LogLineView[];
}

/** The signed-in user; `csrf_token` goes into `X-CSRF-Token` of the dashboard's writes. */
export interface Me {
  id: string;
  name: string;
  role: Role;
  scopes: Scope[];
  via: "session" | "token";
  csrf_token?: string | null;
}

export interface ModelResult {
  field: string;
  model: string;
  source: string;
  size: number | null;
  file_name: string | null;
  error: string | null;
}

export interface NodeError {
  node_id?: string | null;
  class_type?: string | null;
  input?: string | null;
  message: string;
}

export interface OutputList {
  items: OutputView[];
  total: number;
}

export interface OutputView {
  id: string;
  run_id: string;
  node_id: string;
  /** The output key it was listed under: images, gifs, audio */
  kind: string;
  /** output or temp (previews) */
  folder_type: string;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  width: number | null;
  height: number | null;
  created_at: string;
  /** Where its bytes are: GET it */
  url: string;
}

export interface PasswordChange {
  /** Omit when you have none yet */
  current?: string | null;
  new: string;
}

/** A call the reconciler makes to RunPod on a deployment's behalf. */
export type PodAction = "create" | "start" | "stop" | "restart" | "terminate";

export const PodActionValues = ["create", "start", "stop", "restart", "terminate"] as const satisfies readonly PodAction[];

/** A RunPod action on the deployment's pod completed. */
export interface PodActionData {
  action: PodAction;
  /** The pod's RunPod status after it */
  status: string;
}

/** A pod tagged for this deployment id existed without a deployment here; one was made. */
export interface PodAdoptedData {
  status: string;
  name: string;
}

/** The deployment's pod exists (a create answered, or a lost create's pod was found). */
export interface PodCreatedData {
  gpu: string | null;
  gpu_count: number;
  data_center_id: string | null;
  cost_per_hour: string;
  /** The pod of an earlier create whose answer was lost */
  adopted: boolean;
  attempts: CreateAttemptData[];
}

/** The pod's RunPod status changed. */
export interface PodStatusData {
  status: string;
  previous: string | null;
  cost_per_hour: string;
}

/** The deployment's pod is gone from the account. */
export type PodTerminatedData = Record<string, unknown>;

/** RunPod's view of the deployment's pod. */
export interface PodView {
  id: string;
  status: string;
  cost_per_hour: string;
  data_center_id: string | null;
  uptime_s?: number | null;
  gpu_util?: number[];
  gpu_memory_util?: number[];
  cpu_util?: number | null;
  memory_util?: number | null;
  last_seen_at: string;
}

/** A manifest (or a preset plus additions), the tokens to check it with, the disk to fit. */
export interface PreflightRequest {
  preset?: string | null;
  manifest?: Record<string, unknown>;
  /** Write-only */
  hf_token?: string | null;
  /** Write-only */
  civitai_token?: string | null;
  container_disk_gb?: number | null;
  volume_gb?: number | null;
}

export interface PreflightView {
  ok: boolean;
  models: ModelResult[];
  /** Sum of the known model sizes */
  total_bytes: number;
  /** total_bytes plus headroom for ComfyUI itself */
  required_bytes: number;
  disk_bytes: number | null;
  disk_field: string | null;
  errors: Record<string, string>[];
}

export interface PresetList {
  presets: PresetView[];
  /** The folders a manifest's models may go to (ComfyUI's models/<folder>) */
  model_folders: string[];
}

export interface PresetModelView {
  name: string;
  folder: string;
  source: Record<string, unknown>;
  /** Bytes */
  size: number;
  /** Needs a Hugging Face token with access to the repo */
  gated: boolean;
}

export interface PresetNodeView {
  name: string;
  repo: string;
  ref: string;
}

export interface PresetView {
  id: string;
  title: string;
  description: string;
  models: PresetModelView[];
  nodes: PresetNodeView[];
  total_bytes: number;
  needs_hf_token: boolean;
}

/** An RFC 9457 problem: every error response has this body and a stable `code`. */
export interface Problem {
  type?: string;
  /** The HTTP status phrase */
  title: string;
  status: number;
  /** Stable machine code: invalid_input, not_found, conflict, method_not_allowed, upstream_unavailable, internal_error, ... */
  code: string;
  /** What went wrong, for people */
  detail: string;
  /** With `invalid_input`: one entry per bad field */
  errors?: FieldProblem[] | null;
  [key: string]: unknown;
}

export interface ReconcilerHealth {
  ok: boolean;
  last_cycle_at: string | null;
  last_cycle_age_s: number | null;
  detail?: string | null;
}

export interface Reconciliation {
  /** When the comparison was made (cloud clock) */
  checked_at: string;
  start: string;
  end: string;
  bucket?: "hour";
  /** Differences above this share are mismatches */
  tolerance_pct: string;
  /** ...and only when at least this large */
  min_difference_usd: string;
  /** How long after an hour ends it is compared */
  settle_minutes: string;
  /** Over settled rows only */
  totals: ReconciliationTotals;
  /** Over rows not settled yet */
  pending: ReconciliationTotals;
  mismatches: number;
  /** Billed by RunPod for pods of the account that ComfyHangar does not manage */
  unmanaged_billed_usd: string;
  /** Why RunPod's billing could not be read */
  error?: string | null;
  /** Per pod (or network volume) per hour: by resource, then oldest first */
  rows: ReconciliationRow[];
}

export interface ReconciliationRow {
  kind: "pod" | "network_volume";
  pod_id: string | null;
  network_volume_id: string | null;
  deployment_id: string | null;
  /** For a network volume: the volume's name */
  deployment_name: string | null;
  bucket_start: string;
  bucket_end: string;
  /** What the meter recorded for it in this hour */
  metered_usd: string;
  /** What RunPod's /v2/billing/* says */
  billed_usd: string;
  /** metered - billed */
  difference_usd: string;
  /** Of the billed figure; null if 0 billed */
  difference_pct: string | null;
  /** pending: the hour is in progress, RunPod may not have billed it yet, or the meter has not passed its end */
  status: "match" | "mismatch" | "pending";
}

export interface ReconciliationTotals {
  metered_usd: string;
  billed_usd: string;
  difference_usd: string;
  difference_pct: string | null;
}

export type Role = "admin" | "member" | "viewer";

export const RoleValues = ["admin", "member", "viewer"] as const satisfies readonly Role[];

export interface RunBatch {
  batch_id: string;
  runs: RunView[];
}

/** What to run (a workflow version, or a raw API prompt), where, and with which values. */
export interface RunCreate {
  workflow_id?: string | null;
  /** Default: the latest version */
  workflow_version?: number | null;
  /** A raw API prompt, instead of a workflow */
  prompt?: Record<string, unknown> | null;
  /** Run on a deployment */
  deployment_id?: string | null;
  /** Run on a registered server */
  server_id?: string | null;
  /** Values by `node_id.input` (see the workflow's `inputs`) */
  overrides?: Record<string, unknown>;
  /** How many runs to queue */
  count?: number;
  /** The first run's seed (every seed input) */
  seed?: number | null;
  /** How seeds vary over `count` runs */
  seed_mode?: "increment" | "random" | "fixed";
}

/** Why a run failed: ComfyUI's words, node by node. */
export interface RunError {
  /** rejected, execution_error, lost, unreachable, target_gone */
  type: string;
  message: string;
  nodes?: NodeError[];
}

/** A run ended: succeeded, failed (`error`, node by node) or cancelled. */
export interface RunFinishedData {
  run_id: string;
  batch_id: string;
  server_id: string | null;
  workflow_id: string | null;
  state: "queued" | "dispatching" | "running" | "succeeded" | "failed" | "cancelled";
  error?: RunError | null;
  /** How many outputs it brought home */
  outputs?: number;
  reason?: string | null;
}

export interface RunList {
  items: RunView[];
  total: number;
}

/** An output of the run was copied home (committed with its record). */
export interface RunOutputData {
  run_id: string;
  batch_id: string;
  server_id: string | null;
  workflow_id: string | null;
  state: "queued" | "dispatching" | "running" | "succeeded" | "failed" | "cancelled";
  output_id: string;
  node_id: string;
  filename: string;
  content_type: string;
  size: number;
  width: number | null;
  height: number | null;
}

export interface RunProgress {
  /** The node running now */
  node?: string | null;
  step?: number | null;
  steps?: number | null;
  /** Of the whole prompt, 0 to 100 */
  percent?: number;
  nodes_done?: number;
  nodes_total?: number;
}

/** A run started, or moved on (at most every 0.5 s per run). */
export interface RunProgressData {
  run_id: string;
  batch_id: string;
  server_id: string | null;
  workflow_id: string | null;
  state: "queued" | "dispatching" | "running" | "succeeded" | "failed" | "cancelled";
  progress: RunProgress;
  /** Set when a new preview image is at this address */
  preview_url?: string | null;
}

/** A run was queued (committed with it; the batch's runs come together). */
export interface RunQueuedData {
  run_id: string;
  batch_id: string;
  server_id: string | null;
  workflow_id: string | null;
  state: "queued" | "dispatching" | "running" | "succeeded" | "failed" | "cancelled";
  batch_index: number;
}

export interface RunView {
  id: string;
  batch_id: string;
  batch_index: number;
  workflow_id: string | null;
  workflow_version: number | null;
  deployment_id: string | null;
  server_id: string | null;
  overrides: Record<string, unknown>;
  prompt_id: string;
  state: "queued" | "dispatching" | "running" | "succeeded" | "failed" | "cancelled";
  cancel_requested: boolean;
  progress: RunProgress;
  error: RunError | null;
  output_count: number;
  created_at: string;
  submitted_at: string | null;
  started_at: string | null;
  finished_at: string | null;
}

export type Scope = "read" | "deploy" | "run" | "admin";

export const ScopeValues = ["read", "deploy", "run", "admin"] as const satisfies readonly Scope[];

export interface ServerCreate {
  name: string;
  url: string;
  /** A header sent with every request, such as Authorization */
  auth_header_name?: string | null;
  /** Its value: stored as a secret, never shown again */
  auth_header_value?: string | null;
}

export interface ServerList {
  items: ServerView[];
}

export interface ServerView {
  id: string;
  name: string;
  url: string;
  /** The header's name (its value is secret) */
  auth_header_name: string | null;
  has_auth: boolean;
  created_at: string;
}

/** One progress line of the pod agent (docs/agent-progress-protocol.md), without `v`. The protocol keeps fields it does not know (forward compatibility), and so does this event. */
export interface SetupProgressData {
  step: SetupStepName;
  status: "started" | "running" | "done" | "failed" | "skipped";
  time?: string | null;
  run?: string | null;
  item?: string | null;
  message?: string | null;
  error?: string | null;
  bytes_done?: number | null;
  bytes_total?: number | null;
  items_done?: number | null;
  items_total?: number | null;
  speed_bps?: number | null;
  eta_s?: number | null;
  [key: string]: unknown;
}

export interface SetupStep {
  step: SetupStepName;
  status: string;
  /** The file or node in flight (while `running`) */
  item?: string | null;
  message?: string | null;
  bytes_done?: number | null;
  bytes_total?: number | null;
  speed_bps?: number | null;
  eta_s?: number | null;
  updated_at?: string | null;
}

/** The agent's setup steps, in the order it runs them (the agent, which imports nothing of the package, keeps the same list in `agent/protocol.py`; a test holds them equal). */
export type SetupStepName = "preflight" | "comfyui" | "custom_nodes" | "models" | "start" | "ready";

export const SetupStepNameValues = ["preflight", "comfyui", "custom_nodes", "models", "start", "ready"] as const satisfies readonly SetupStepName[];

/** One of: `name` + `password`; `token` (an API token); `link` (a one-time login link). */
export interface SignInRequest {
  name?: string | null;
  password?: string | null;
  token?: string | null;
  link?: string | null;
}

export interface SpendTotals {
  /** gpu_usd + storage_usd */
  total_usd: string;
  /** GPU compute */
  gpu_usd: string;
  /** Container and volume disks, and network volumes */
  storage_usd: string;
  /** Network volumes (part of storage_usd; the account's, in no deployment) */
  network_volume_usd: string;
}

export interface StateChange {
  state: DeploymentState;
  at: string;
  reason?: string | null;
}

/** Price bands per GPU-hour (secure price, else community): the seed's four. */
export type Tier = "budget" | "mid" | "high" | "premium";

export const TierValues = ["budget", "mid", "high", "premium"] as const satisfies readonly Tier[];

export interface TokenCreate {
  name: string;
  scopes: Scope[];
  /** null: never expires */
  expires_in_days?: number | null;
}

export interface TokenCreated {
  id: string;
  name: string;
  user_id: string;
  /** The token's first characters, to recognise it */
  hint: string;
  scopes: Scope[];
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  /** The token itself: shown this once, never again */
  token: string;
}

export interface TokenList {
  tokens: TokenView[];
}

export interface TokenView {
  id: string;
  name: string;
  user_id: string;
  /** The token's first characters, to recognise it */
  hint: string;
  scopes: Scope[];
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface UserList {
  users: UserView[];
}

export interface UserUpdate {
  role?: Role | null;
  disabled?: boolean | null;
}

export interface UserView {
  id: string;
  name: string;
  role: Role;
  disabled: boolean;
  has_password: boolean;
  created_at: string;
}

export interface WorkflowDetail {
  id: string;
  name: string;
  description: string;
  tags: string[];
  latest_version: number;
  created_at: string;
  updated_at: string;
  /** The inputs of the latest version */
  inputs: WorkflowInput[];
  /** Every version, newest first */
  versions: WorkflowVersionView[];
}

/** A version's workflow as stored: the API prompt and the UI graph it came from. */
export interface WorkflowDocument {
  workflow_id: string;
  version: number;
  source_format: "ui" | "api";
  api_prompt: Record<string, unknown> | null;
  ui_graph: Record<string, unknown> | null;
}

/** A value a user may change per run, addressed as `node_id.input` (`6.text`). */
export interface WorkflowInput {
  key: string;
  node_id: string;
  class_type: string;
  input: string;
  /** INT, FLOAT, STRING, BOOLEAN, COMBO (a list of choices) or JSON */
  type: string;
  /** The value stored in the workflow */
  default: unknown;
}

export interface WorkflowList {
  items: WorkflowView[];
  total: number;
}

export interface WorkflowVersionView {
  version: number;
  source_format: "ui" | "api";
  /** False when the UI graph uses nodes the reference set lacks: it is converted against the target's nodes when run */
  has_api_prompt: boolean;
  inputs: WorkflowInput[];
  note: string;
  created_at: string;
}

export interface WorkflowView {
  id: string;
  name: string;
  description: string;
  tags: string[];
  latest_version: number;
  created_at: string;
  updated_at: string;
  /** The inputs of the latest version */
  inputs: WorkflowInput[];
}

// ---- operations ----

/** Get Health: Database, RunPod reachability, the reconciler's last cycle, and whether the cloud is simulated. */
export function getHealth(options?: RequestOptions): Promise<Health> {
  return request<Health>({ method: "GET", path: `/api/v1/health`, expect: "json", ...options });
}

/** Sign In: Sign a browser in (sets the session cookie): with a name and password, an API token, or a one-time login link. Rate-limited per account and per address. */
export function signIn(body: SignInRequest, options?: RequestOptions): Promise<Me> {
  return request<Me>({ method: "POST", path: `/api/v1/auth/session`, expect: "json", body, ...options });
}

/** Sign Out: Sign this browser out (the session ends on the server too). */
export function signOut(options?: RequestOptions): Promise<void> {
  return request<void>({ method: "DELETE", path: `/api/v1/auth/session`, expect: "none", ...options });
}

/** Who Am I: The signed-in user, its scopes, and (for a browser) the CSRF token for writes. */
export function whoAmI(options?: RequestOptions): Promise<Me> {
  return request<Me>({ method: "GET", path: `/api/v1/auth/me`, expect: "json", ...options });
}

/** Change Password: Set or change one's own password (the current one is needed once there is one). */
export function changePassword(body: PasswordChange, options?: RequestOptions): Promise<void> {
  return request<void>({ method: "PUT", path: `/api/v1/auth/password`, expect: "none", body, ...options });
}

/** Make Login Link: A one-time link that signs a browser in as oneself (`comfyhangar login-link`). */
export function makeLoginLink(options?: RequestOptions): Promise<LinkView> {
  return request<LinkView>({ method: "POST", path: `/api/v1/auth/login-links`, expect: "json", ...options });
}

/** Accept Invite: Become the invited user, with a name and password of one's choosing; signs in. */
export function acceptInvite(body: InviteAccept, options?: RequestOptions): Promise<Me> {
  return request<Me>({ method: "POST", path: `/api/v1/auth/invites/accept`, expect: "json", body, ...options });
}

/** List Gpus: Every GPU type: price per GPU-hour in both clouds, largest machine, stock in `cloud`. */
export function listGpus(query?: { cloud?: "SECURE" | "COMMUNITY" }, options?: RequestOptions): Promise<GpuCatalog> {
  return request<GpuCatalog>({ method: "GET", path: `/api/v1/gpus`, expect: "json", query, ...options });
}

/** Create Deployment: Deploy ComfyUI on a new pod, owned by the caller. The pod is created in the background; watch `/events`. */
export function createDeployment(body: DeploymentCreate, options?: RequestOptions): Promise<DeploymentView> {
  return request<DeploymentView>({ method: "POST", path: `/api/v1/deployments`, expect: "json", body, ...options });
}

/** List Deployments: Every deployment the caller may see (a member: their own), newest first; `state` filters; `limit` and `offset` page. */
export function listDeployments(query?: { state?: DeploymentState | null; limit?: number | null; offset?: number }, options?: RequestOptions): Promise<DeploymentList> {
  return request<DeploymentList>({ method: "GET", path: `/api/v1/deployments`, expect: "json", query, ...options });
}

/** Get Deployment: One deployment with its pod, setup steps and state history. */
export function getDeployment(deploymentId: string, options?: RequestOptions): Promise<DeploymentDetail> {
  return request<DeploymentDetail>({ method: "GET", path: `/api/v1/deployments/${encodeURIComponent(deploymentId)}`, expect: "json", ...options });
}

/** Terminate Deployment: Terminate the pod for good (its volume disk is destroyed). Idempotent. */
export function terminateDeployment(deploymentId: string, options?: RequestOptions): Promise<DeploymentView> {
  return request<DeploymentView>({ method: "DELETE", path: `/api/v1/deployments/${encodeURIComponent(deploymentId)}`, expect: "json", ...options });
}

/** Open Comfyui: One click to ComfyUI, for whoever may change the deployment: a redirect to the pod's proxy carrying the pod token (ready only). The proxy trades the token for a cookie and redirects to the same address without it, so it stays out of the browser's history; this response is never cached and sends no Referer. */
export function openComfyui(deploymentId: string, options?: RequestOptions): Promise<void> {
  return request<void>({ method: "GET", path: `/api/v1/deployments/${encodeURIComponent(deploymentId)}/open`, expect: "none", ...options });
}

/** Stop Deployment: Stop the pod (no GPU billed; the volume is kept). Idempotent. */
export function stopDeployment(deploymentId: string, options?: RequestOptions): Promise<DeploymentView> {
  return request<DeploymentView>({ method: "POST", path: `/api/v1/deployments/${encodeURIComponent(deploymentId)}/stop`, expect: "json", ...options });
}

/** Start Deployment: Start a stopped pod again (or retry a deployment whose pod could not be made). */
export function startDeployment(deploymentId: string, options?: RequestOptions): Promise<DeploymentView> {
  return request<DeploymentView>({ method: "POST", path: `/api/v1/deployments/${encodeURIComponent(deploymentId)}/start`, expect: "json", ...options });
}

/** Restart Deployment: Restart the running pod's container (setup runs again, skipping what is done). */
export function restartDeployment(deploymentId: string, options?: RequestOptions): Promise<DeploymentView> {
  return request<DeploymentView>({ method: "POST", path: `/api/v1/deployments/${encodeURIComponent(deploymentId)}/restart`, expect: "json", ...options });
}

/** Set Idle Policy: Change the idle policy: the fields given change, the rest stay (a 422 names a bad one). */
export function setIdlePolicy(deploymentId: string, body: IdlePolicyInput, options?: RequestOptions): Promise<DeploymentView> {
  return request<DeploymentView>({ method: "PATCH", path: `/api/v1/deployments/${encodeURIComponent(deploymentId)}/idle`, expect: "json", body, ...options });
}

/** Keep Awake: No idle stop or terminate for `minutes` from now (a new call replaces the old end); the idle clock counts again from then. */
export function keepAwake(deploymentId: string, body: KeepAwakeRequest, options?: RequestOptions): Promise<DeploymentView> {
  return request<DeploymentView>({ method: "POST", path: `/api/v1/deployments/${encodeURIComponent(deploymentId)}/keep-awake`, expect: "json", body, ...options });
}

/** Deployment Logs: The last `lines` lines of the pod log; `follow=1` streams them, then new ones, as SSE. A client that has seen lines resumes with `after=<line id>` (or, following, the `Last-Event-ID` header its EventSource sends): it gets the lines after that one (the first `lines` of them without `follow`), so a reconnect neither repeats nor skips any. */
export function deploymentLogs(deploymentId: string, query?: { lines?: number; follow?: boolean; after?: number | null }, options?: RequestOptions): Promise<LogTail> {
  return request<LogTail>({ method: "GET", path: `/api/v1/deployments/${encodeURIComponent(deploymentId)}/logs`, expect: "json", query, ...options });
}

/** Stream Events: Every event after `Last-Event-ID` (or `after`), then live ones. Without either, only new events. Each has an `id`; `event` is its type; `data` is JSON. Comments keep the line alive. A member sees the events of their own deployments (and those of no deployment). */
export function streamEvents(query?: { after?: number | null; deployment_id?: string | null }, options?: RequestOptions): Promise<string> {
  return request<string>({ method: "GET", path: `/api/v1/events`, expect: "text", query, ...options });
}

/** List Pods: Live pods of the account as last seen; `managed` is false for pods ComfyHangar did not make. */
export function listPods(options?: RequestOptions): Promise<AccountPods> {
  return request<AccountPods>({ method: "GET", path: `/api/v1/pods`, expect: "json", ...options });
}

/** Estimate Cost: The cost of a deployment before it is made: per hour, per day, per 30 days, stopped. */
export function estimateCost(body: EstimateRequest, options?: RequestOptions): Promise<Estimate> {
  return request<Estimate>({ method: "POST", path: `/api/v1/estimate`, expect: "json", body, ...options });
}

/** Cost Summary: Spent today and this month, the burn rate per hour, where it leads, and the RunPod balance (read through GraphQL, cached ~60 s; null with the reason when unreadable). */
export function costSummary(options?: RequestOptions): Promise<CostSummary> {
  return request<CostSummary>({ method: "GET", path: `/api/v1/costs/summary`, expect: "json", ...options });
}

/** Cost History: Spend per UTC bucket (weeks start on Monday), oldest first, zero-filled, each split into GPU and storage, per deployment and per GPU type. Default window: the last 30 days, 12 weeks, 12 months or 48 hours, ending now. Segments are split exactly at bucket edges. */
export function costHistory(query?: { bucket?: "hour" | "day" | "week" | "month"; start?: string | null; end?: string | null }, options?: RequestOptions): Promise<CostHistory> {
  return request<CostHistory>({ method: "GET", path: `/api/v1/costs/history`, expect: "json", query, ...options });
}

/** Costs By Deployment: Spend per deployment over a window (default: this month so far). */
export function costsByDeployment(query?: { start?: string | null; end?: string | null }, options?: RequestOptions): Promise<CostsByDeployment> {
  return request<CostsByDeployment>({ method: "GET", path: `/api/v1/costs/by-deployment`, expect: "json", query, ...options });
}

/** Costs By Gpu: Spend and GPU-hours per GPU type over a window (default: this month so far). */
export function costsByGpu(query?: { start?: string | null; end?: string | null }, options?: RequestOptions): Promise<CostsByGpu> {
  return request<CostsByGpu>({ method: "GET", path: `/api/v1/costs/by-gpu`, expect: "json", query, ...options });
}

/** Export Csv: Spend as CSV (RFC 4180), one row per UTC day, deployment, pod and GPU type (default window: this month so far). Columns: date, deployment_id, deployment_name, pod_id, gpu_type_id, gpu_hours, gpu_usd, storage_usd, total_usd. Cells that a spreadsheet would take for a formula (starting with = + - @) are prefixed with a single quote. */
export function exportCsv(query?: { start?: string | null; end?: string | null }, options?: RequestOptions): Promise<string> {
  return request<string>({ method: "GET", path: `/api/v1/costs/export.csv`, expect: "text", query, ...options });
}

/** Reconciliation: The meter against RunPod's `/v2/billing/pods`, per pod per hour and in total. Without `start`/`end`, the latest periodic check (run now if there is none yet, or with `refresh`); its window is the last few hours. Mismatches (settled hours more than 1% and at least $0.01 apart) raise one `billing_mismatch` event per pod and hour. */
export function reconciliation(query?: { start?: string | null; end?: string | null; refresh?: boolean }, options?: RequestOptions): Promise<Reconciliation> {
  return request<Reconciliation>({ method: "GET", path: `/api/v1/costs/reconciliation`, expect: "json", query, ...options });
}

/** List Budgets: Every budget with its spend and state in the current period. */
export function listBudgets(options?: RequestOptions): Promise<BudgetList> {
  return request<BudgetList>({ method: "GET", path: `/api/v1/budgets`, expect: "json", ...options });
}

/** Create Budget: A daily or monthly limit over every deployment (or one) that warns, stops or terminates. */
export function createBudget(body: BudgetCreate, options?: RequestOptions): Promise<BudgetView> {
  return request<BudgetView>({ method: "POST", path: `/api/v1/budgets`, expect: "json", body, ...options });
}

/** Get Budget */
export function getBudget(budgetId: string, options?: RequestOptions): Promise<BudgetView> {
  return request<BudgetView>({ method: "GET", path: `/api/v1/budgets/${encodeURIComponent(budgetId)}`, expect: "json", ...options });
}

/** Update Budget: Change the limit, thresholds or action. */
export function updateBudget(budgetId: string, body: BudgetUpdate, options?: RequestOptions): Promise<BudgetView> {
  return request<BudgetView>({ method: "PATCH", path: `/api/v1/budgets/${encodeURIComponent(budgetId)}`, expect: "json", body, ...options });
}

/** Delete Budget */
export function deleteBudget(budgetId: string, options?: RequestOptions): Promise<void> {
  return request<void>({ method: "DELETE", path: `/api/v1/budgets/${encodeURIComponent(budgetId)}`, expect: "none", ...options });
}

/** List Presets: Every preset with its models (name, folder, source, size), nodes and total size, and the model folders a custom model may name. */
export function listPresets(options?: RequestOptions): Promise<PresetList> {
  return request<PresetList>({ method: "GET", path: `/api/v1/presets`, expect: "json", ...options });
}

/** Preflight: Check a manifest's models (access with the tokens given, sizes) and the disk, without deploying. A failure is a 422 `preflight_failed` naming each model and why. */
export function preflight(body: PreflightRequest, options?: RequestOptions): Promise<PreflightView> {
  return request<PreflightView>({ method: "POST", path: `/api/v1/preflight`, expect: "json", body, ...options });
}

/** Create Workflow: Add a workflow to the library (its version 1). Its `inputs` are the values a run may change, by `node_id.input`. */
export function createWorkflow(body: FormData, options?: RequestOptions): Promise<WorkflowDetail> {
  return request<WorkflowDetail>({ method: "POST", path: `/api/v1/workflows`, expect: "json", form: body, ...options });
}

/** List Workflows: The library, most recently changed first. */
export function listWorkflows(query?: { tag?: string | null; search?: string | null; limit?: number; offset?: number }, options?: RequestOptions): Promise<WorkflowList> {
  return request<WorkflowList>({ method: "GET", path: `/api/v1/workflows`, expect: "json", query, ...options });
}

/** Convert Workflow: UI workflow in, API prompt out, as the ComfyUI frontend makes it: against a deployment's or server's `/object_info`, an inline one, or the reference node set. */
export function convertWorkflow(body: ConvertRequest, options?: RequestOptions): Promise<ConvertResult> {
  return request<ConvertResult>({ method: "POST", path: `/api/v1/workflows/convert`, expect: "json", body, ...options });
}

/** Import Workflow: A workflow exported from this or another ComfyHangar, with all its versions. */
export function importWorkflow(body: FormData, options?: RequestOptions): Promise<WorkflowDetail> {
  return request<WorkflowDetail>({ method: "POST", path: `/api/v1/workflows/import`, expect: "json", form: body, ...options });
}

/** Get Workflow: A workflow with every version and its inputs. */
export function getWorkflow(workflowId: string, options?: RequestOptions): Promise<WorkflowDetail> {
  return request<WorkflowDetail>({ method: "GET", path: `/api/v1/workflows/${encodeURIComponent(workflowId)}`, expect: "json", ...options });
}

/** Delete Workflow: Remove a workflow and its versions; its runs and their outputs stay. */
export function deleteWorkflow(workflowId: string, options?: RequestOptions): Promise<void> {
  return request<void>({ method: "DELETE", path: `/api/v1/workflows/${encodeURIComponent(workflowId)}`, expect: "none", ...options });
}

/** Add Workflow Version: A new version of the workflow (older versions stay, and runs keep naming theirs). */
export function addWorkflowVersion(workflowId: string, body: FormData, options?: RequestOptions): Promise<WorkflowDetail> {
  return request<WorkflowDetail>({ method: "POST", path: `/api/v1/workflows/${encodeURIComponent(workflowId)}/versions`, expect: "json", form: body, ...options });
}

/** Get Workflow Version: A version's API prompt and the UI graph it came from. */
export function getWorkflowVersion(workflowId: string, version: number, options?: RequestOptions): Promise<WorkflowDocument> {
  return request<WorkflowDocument>({ method: "GET", path: `/api/v1/workflows/${encodeURIComponent(workflowId)}/versions/${encodeURIComponent(version)}`, expect: "json", ...options });
}

/** Export Workflow: The workflow with every version, as one JSON file that `POST /workflows/import` takes. */
export function exportWorkflow(workflowId: string, options?: RequestOptions): Promise<unknown> {
  return request<unknown>({ method: "GET", path: `/api/v1/workflows/${encodeURIComponent(workflowId)}/export`, expect: "json", ...options });
}

/** List Comfyui Servers: Every registered server, by name. */
export function listComfyuiServers(options?: RequestOptions): Promise<ServerList> {
  return request<ServerList>({ method: "GET", path: `/api/v1/comfyui-servers`, expect: "json", ...options });
}

/** Create Comfyui Server: Register a ComfyUI (a local one, a pod made elsewhere): runs can target it. The auth header's value is kept as a secret, sent only to that server and never shown. */
export function createComfyuiServer(body: ServerCreate, options?: RequestOptions): Promise<ServerView> {
  return request<ServerView>({ method: "POST", path: `/api/v1/comfyui-servers`, expect: "json", body, ...options });
}

/** Get Comfyui Server */
export function getComfyuiServer(serverId: string, options?: RequestOptions): Promise<ServerView> {
  return request<ServerView>({ method: "GET", path: `/api/v1/comfyui-servers/${encodeURIComponent(serverId)}`, expect: "json", ...options });
}

/** Delete Comfyui Server: Forget a server; runs on it that have not ended fail (their target is gone). */
export function deleteComfyuiServer(serverId: string, options?: RequestOptions): Promise<void> {
  return request<void>({ method: "DELETE", path: `/api/v1/comfyui-servers/${encodeURIComponent(serverId)}`, expect: "none", ...options });
}

/** Create Runs: Queue `count` runs. Everything is checked against the target's `/object_info` first: a refusal queues nothing. Follow them on `/events` (`run_queued`, `run_progress`, `run_output`, `run_finished`) or `GET /runs/{id}`. A deployment target must be one the caller may act on (404/403 as the deployment routes answer). */
export function createRuns(body: RunCreate, options?: RequestOptions): Promise<RunBatch> {
  return request<RunBatch>({ method: "POST", path: `/api/v1/runs`, expect: "json", body, ...options });
}

/** List Runs: Runs, newest first, filtered: a member's own; admins' and viewers' every one. */
export function listRuns(query?: { state?: "queued" | "dispatching" | "running" | "succeeded" | "failed" | "cancelled" | null; workflow_id?: string | null; deployment_id?: string | null; server_id?: string | null; batch_id?: string | null; limit?: number; offset?: number }, options?: RequestOptions): Promise<RunList> {
  return request<RunList>({ method: "GET", path: `/api/v1/runs`, expect: "json", query, ...options });
}

/** Get Run: One run: state, progress (node, step, percent), error node by node. */
export function getRun(runId: string, options?: RequestOptions): Promise<RunView> {
  return request<RunView>({ method: "GET", path: `/api/v1/runs/${encodeURIComponent(runId)}`, expect: "json", ...options });
}

/** Get Run Preview: The latest preview image of a running run (a sampler step's); `run_progress` events carry `preview_url` when a new one is there. 404 when there is none. */
export function getRunPreview(runId: string, options?: RequestOptions): Promise<string> {
  return request<string>({ method: "GET", path: `/api/v1/runs/${encodeURIComponent(runId)}/preview`, expect: "text", ...options });
}

/** Cancel Run: Cancel a run: a queued one at once; a sent one is deleted from ComfyUI's queue or interrupted (only this prompt), and ends `cancelled`. A run on a deployment needs the right to act on that deployment (404/403 as the deployment routes answer). */
export function cancelRun(runId: string, options?: RequestOptions): Promise<RunView> {
  return request<RunView>({ method: "POST", path: `/api/v1/runs/${encodeURIComponent(runId)}/cancel`, expect: "json", ...options });
}

/** Download Run Outputs: Every output of a run, as one zip (`<node>_<file name>`). */
export function downloadRunOutputs(runId: string, options?: RequestOptions): Promise<string> {
  return request<string>({ method: "GET", path: `/api/v1/runs/${encodeURIComponent(runId)}/outputs.zip`, expect: "text", ...options });
}

/** Upload Input File: Upload an input file to a deployment's or server's ComfyUI (its `input/` folder), for runs to use: set the LoadImage input to the `reference` answered. */
export function uploadInputFile(body: FormData, options?: RequestOptions): Promise<InputFileView> {
  return request<InputFileView>({ method: "POST", path: `/api/v1/input-files`, expect: "json", form: body, ...options });
}

/** List Outputs: Outputs, newest first, filtered; `url` of each serves its bytes. */
export function listOutputs(query?: { run_id?: string | null; batch_id?: string | null; workflow_id?: string | null; deployment_id?: string | null; since?: string | null; limit?: number; offset?: number }, options?: RequestOptions): Promise<OutputList> {
  return request<OutputList>({ method: "GET", path: `/api/v1/outputs`, expect: "json", query, ...options });
}

/** Get Output */
export function getOutput(outputId: string, options?: RequestOptions): Promise<OutputView> {
  return request<OutputView>({ method: "GET", path: `/api/v1/outputs/${encodeURIComponent(outputId)}`, expect: "json", ...options });
}

/** Get Output Content: The output's bytes, as ComfyUI wrote them. */
export function getOutputContent(outputId: string, options?: RequestOptions): Promise<string> {
  return request<string>({ method: "GET", path: `/api/v1/outputs/${encodeURIComponent(outputId)}/content`, expect: "text", ...options });
}

/** List Users: Every user, oldest first. */
export function listUsers(options?: RequestOptions): Promise<UserList> {
  return request<UserList>({ method: "GET", path: `/api/v1/users`, expect: "json", ...options });
}

/** Invite User: A one-time invite link (valid 7 days): who opens it picks a name and password and becomes a user of `role`. */
export function inviteUser(body: InviteCreate, options?: RequestOptions): Promise<LinkView> {
  return request<LinkView>({ method: "POST", path: `/api/v1/users/invites`, expect: "json", body, ...options });
}

/** Get User */
export function getUser(userId: string, options?: RequestOptions): Promise<UserView> {
  return request<UserView>({ method: "GET", path: `/api/v1/users/${encodeURIComponent(userId)}`, expect: "json", ...options });
}

/** Update User: Change a user's role, or disable (signs them out, stops their tokens) or enable them. */
export function updateUser(userId: string, body: UserUpdate, options?: RequestOptions): Promise<UserView> {
  return request<UserView>({ method: "PATCH", path: `/api/v1/users/${encodeURIComponent(userId)}`, expect: "json", body, ...options });
}

/** Delete User: Delete a user with their tokens and sessions; their deployments become yours. */
export function deleteUser(userId: string, options?: RequestOptions): Promise<void> {
  return request<void>({ method: "DELETE", path: `/api/v1/users/${encodeURIComponent(userId)}`, expect: "none", ...options });
}

/** List Tokens: One's API tokens, newest first (revoked and expired ones too). */
export function listTokens(query?: { all?: boolean }, options?: RequestOptions): Promise<TokenList> {
  return request<TokenList>({ method: "GET", path: `/api/v1/tokens`, expect: "json", query, ...options });
}

/** Create Token: Make an API token with some of one's own scopes. The response holds the token: the only time it is shown. */
export function createToken(body: TokenCreate, options?: RequestOptions): Promise<TokenCreated> {
  return request<TokenCreated>({ method: "POST", path: `/api/v1/tokens`, expect: "json", body, ...options });
}

/** Revoke Token: Revoke an API token (it stops working at once). Idempotent. */
export function revokeToken(tokenId: string, options?: RequestOptions): Promise<TokenView> {
  return request<TokenView>({ method: "DELETE", path: `/api/v1/tokens/${encodeURIComponent(tokenId)}`, expect: "json", ...options });
}

/** List Audit: Changes and refusals, newest first: who, when, from where, what, how it ended. */
export function listAudit(query?: { limit?: number; before?: number | null; format?: "json" | "csv" }, options?: RequestOptions): Promise<AuditList> {
  return request<AuditList>({ method: "GET", path: `/api/v1/audit`, expect: "json", query, ...options });
}
