/**
 * The Deploy form's state and the pure functions around it: the request body it sends, the
 * estimate it asks for, the disk the models need, and where each server error is shown.
 * Everything the user types travels as JSON data; the server validates all of it.
 */
import type { DeploymentCreate, EstimateRequest, GpuOffer, PresetView } from "../../api/generated";
import type { FieldError } from "../../api/http";

export type Cloud = "SECURE" | "COMMUNITY";
export type Storage = "pod" | "network";
export type SourceType = "huggingface" | "civitai" | "url";

export const MANIFEST_VERSION = 1;
export const GB = 1_000_000_000;
/** ComfyUI, its venv and custom nodes live on the same disk as the models (the server's preflight headroom). */
export const COMFYUI_HEADROOM_BYTES = 10 * GB;

export interface ModelRow {
  key: number;
  folder: string;
  name: string;
  type: SourceType;
  repo: string;
  file: string;
  revision: string;
  versionId: string;
  url: string;
  /** Approximate size in GB, for the disk check on this page only (not sent: the agent checks exact sizes). */
  sizeGb: string;
}

export interface NodeRow {
  key: number;
  name: string;
  repo: string;
  ref: string;
}

export interface DeployForm {
  name: string;
  gpuId: string | null;
  count: number;
  cloud: Cloud;
  dataCenter: string;
  containerDiskGb: string;
  storage: Storage;
  volumeGb: string;
  networkVolumeId: string;
  preset: string;
  models: ModelRow[];
  nodes: NodeRow[];
  hfToken: string;
  civitaiToken: string;
}

export const INITIAL_FORM: DeployForm = {
  name: "",
  gpuId: null,
  count: 1,
  cloud: "SECURE",
  dataCenter: "",
  containerDiskGb: "50",
  storage: "pod",
  volumeGb: "100",
  networkVolumeId: "",
  preset: "",
  models: [],
  nodes: [],
  hfToken: "",
  civitaiToken: "",
};

let nextKey = 1;
export function newModelRow(): ModelRow {
  return { key: nextKey++, folder: "checkpoints", name: "", type: "huggingface", repo: "", file: "", revision: "", versionId: "", url: "", sizeGb: "" };
}
export function newNodeRow(): NodeRow {
  return { key: nextKey++, name: "", repo: "", ref: "main" };
}

/** A whole number from a text field, or the text itself (so the server names the bad field). */
function intOrText(text: string): number | string {
  const t = text.trim();
  return /^\d{1,9}$/.test(t) ? Number(t) : t;
}

function priceIn(gpu: GpuOffer, cloud: Cloud): string | null {
  return cloud === "SECURE" ? gpu.price_per_hour.secure : gpu.price_per_hour.community;
}
export { priceIn };

export function maxCountIn(gpu: GpuOffer, cloud: Cloud): number {
  return cloud === "SECURE" ? gpu.max_count.secure : gpu.max_count.community;
}

/** The manifest entry of a custom model row: exactly the agent's source types. */
export function modelEntry(row: ModelRow): Record<string, unknown> {
  let source: Record<string, unknown>;
  if (row.type === "huggingface") {
    source = { type: "huggingface", repo: row.repo.trim(), file: row.file.trim() };
    if (row.revision.trim()) source.revision = row.revision.trim();
  } else if (row.type === "civitai") {
    source = { type: "civitai", version_id: intOrText(row.versionId) };
  } else {
    source = { type: "url", url: row.url.trim() };
  }
  const entry: Record<string, unknown> = { folder: row.folder };
  if (row.name.trim()) entry.name = row.name.trim();
  entry.source = source;
  return entry;
}

/** The request body for POST /deployments. */
export function buildBody(form: DeployForm): DeploymentCreate {
  const body: DeploymentCreate = {
    name: form.name.trim(),
    gpu: { id: form.gpuId ?? "", count: form.count },
    cloud: form.cloud,
    container_disk_gb: intOrText(form.containerDiskGb) as number,
  };
  if (form.dataCenter) body.data_center_ids = [form.dataCenter];
  if (form.storage === "pod") body.volume_gb = intOrText(form.volumeGb) as number;
  else body.network_volume_id = form.networkVolumeId.trim();
  if (form.preset) body.preset = form.preset;
  if (form.models.length || form.nodes.length) {
    const manifest: Record<string, unknown> = { version: MANIFEST_VERSION };
    if (form.nodes.length) {
      manifest.custom_nodes = form.nodes.map((n) => {
        const node: Record<string, unknown> = { repo: n.repo.trim(), ref: n.ref.trim() };
        if (n.name.trim()) node.name = n.name.trim();
        return node;
      });
    }
    if (form.models.length) manifest.models = form.models.map(modelEntry);
    body.manifest = manifest;
  }
  if (form.hfToken.trim()) body.hf_token = form.hfToken.trim();
  if (form.civitaiToken.trim()) body.civitai_token = form.civitaiToken.trim();
  return body;
}

/** What to ask /estimate, or null while the form cannot be priced (no GPU, a disk not a number). */
export function estimateRequest(form: DeployForm, gpu: GpuOffer | undefined): EstimateRequest | null {
  if (!gpu || priceIn(gpu, form.cloud) === null) return null;
  const container = Number(form.containerDiskGb);
  if (!form.containerDiskGb.trim() || !Number.isInteger(container) || container < 1) return null;
  const req: EstimateRequest = { gpu: { id: gpu.id, count: form.count }, cloud: form.cloud, container_disk_gb: container };
  if (form.storage === "pod") {
    const volume = Number(form.volumeGb);
    if (!form.volumeGb.trim() || !Number.isInteger(volume) || volume < 0) return null;
    req.volume_gb = volume;
  } else {
    req.volume_gb = 0;
  }
  return req;
}

/** The preset's model paths, as the server merges them: a custom row with the same folder/name replaces the preset's. */
function rowPath(row: ModelRow): string {
  let name = row.name.trim();
  if (!name && row.type === "huggingface") name = row.file.trim().split("/").pop() ?? "";
  return `${row.folder}/${name}`.toLowerCase();
}

/** Indices (into preset.models) of the preset models kept after merging the custom rows. */
export function keptPresetModels(preset: PresetView | undefined, rows: ModelRow[]): number[] {
  if (!preset) return [];
  const own = new Set(rows.map(rowPath));
  return preset.models.flatMap((m, i) => (own.has(`${m.folder}/${m.name}`.toLowerCase()) ? [] : [i]));
}

export interface ModelsSize {
  knownBytes: number;
  unknownCount: number;
  requiredBytes: number;
}

export function modelsSize(preset: PresetView | undefined, rows: ModelRow[]): ModelsSize {
  let knownBytes = 0;
  let unknownCount = 0;
  for (const i of keptPresetModels(preset, rows)) knownBytes += preset?.models[i]?.size ?? 0;
  for (const row of rows) {
    const gb = Number(row.sizeGb);
    if (row.sizeGb.trim() && Number.isFinite(gb) && gb >= 0) knownBytes += Math.round(gb * GB);
    else unknownCount += 1;
  }
  const any = knownBytes > 0 || unknownCount > 0;
  return { knownBytes, unknownCount, requiredBytes: any ? knownBytes + COMFYUI_HEADROOM_BYTES : 0 };
}

/** One problem as the list beside the Deploy button shows it: at a field of the form (which it names), or not. */
export interface ErrorItem {
  /** The form's field it is shown at, or null when the form has no place for it. */
  field: string | null;
  /** What to call that field ("Hugging Face token", "Custom model 2"). */
  label: string;
  message: string;
}

const FIELD_LABELS: Record<string, string> = {
  name: "Name",
  "gpu.id": "GPU",
  "gpu.count": "GPU count",
  cloud: "Cloud",
  data_center_ids: "Data center",
  container_disk_gb: "Container disk",
  volume_gb: "Volume",
  network_volume_id: "Network volume ID",
  preset: "Model preset",
  hf_token: "Hugging Face token",
  civitai_token: "Civitai token",
  manifest: "Models and custom nodes",
  "manifest.models": "Custom models",
  "manifest.custom_nodes": "Custom nodes",
};

/** What the form calls the place of `field` (a key of `placeErrors`' byField). */
export function fieldLabel(field: string, preset: PresetView | undefined): string {
  const fixed = FIELD_LABELS[field];
  if (fixed) return fixed;
  const model = /^manifest\.models\.(\d+)/.exec(field);
  if (model) return `Custom model ${Number(model[1]) + 1}`;
  const node = /^manifest\.custom_nodes\.(\d+)/.exec(field);
  if (node) return `Custom node ${Number(node[1]) + 1}`;
  const presetModel = /^preset\.models\.(\d+)$/.exec(field);
  if (presetModel) {
    const m = preset?.models[Number(presetModel[1])];
    return m ? `Preset model ${m.folder}/${m.name}` : "Preset model";
  }
  return field;
}

/**
 * Server field errors keyed by the place the form shows them. `body.` is dropped; a model
 * validator's "Value error, hf_token: ..." goes to hf_token; a bare `manifest.models.N`
 * (preflight names a model of the MERGED manifest: the kept preset models, then the custom
 * rows) is moved to the custom row or the preset model it means. `items` lists every error
 * in order, each with the field it is shown at (null when the form has no place for it).
 */
export function placeErrors(
  errors: FieldError[],
  form: DeployForm,
  preset: PresetView | undefined,
  known: (field: string) => boolean,
): { byField: Record<string, string>; items: ErrorItem[] } {
  const byField: Record<string, string> = {};
  const items: ErrorItem[] = [];
  const kept = keptPresetModels(preset, form.models);
  const put = (field: string, message: string) => {
    if (known(field)) {
      byField[field] = field in byField ? `${byField[field]} ${message}` : message;
      items.push({ field, label: fieldLabel(field, preset), message });
    } else {
      const named = field && field !== "body";
      items.push({ field: null, label: named ? field : "", message });
    }
  };
  for (const error of errors) {
    let field = error.field.replace(/^body\./, "");
    let message = error.message;
    const valueError = /^Value error, (?:([a-z_.0-9]+): )?(.*)$/s.exec(message);
    if (valueError) {
      message = valueError[2] ?? message;
      if (field === "body" && valueError[1]) field = valueError[1];
    }
    if (field === "gpu") field = "gpu.id";
    if (/^data_center_ids\.\d+$/.test(field)) field = "data_center_ids";
    const bare = /^manifest\.models\.(\d+)$/.exec(field);
    if (bare && preset) {
      const n = Number(bare[1]);
      field = n < kept.length ? `preset.models.${kept[n]}` : `manifest.models.${n - kept.length}`;
    }
    const modelSub = /^(manifest\.models\.\d+)\.(.+)$/.exec(field);
    if (modelSub && !MODEL_FIELDS.has(modelSub[2] ?? "")) field = modelSub[1] ?? field;
    const nodeSub = /^(manifest\.custom_nodes\.\d+)\.(.+)$/.exec(field);
    if (nodeSub && !NODE_FIELDS.has(nodeSub[2] ?? "")) field = nodeSub[1] ?? field;
    put(field, message);
  }
  return { byField, items };
}

/** The parts of a custom model row / node row that have their own input (others go to the row). */
export const MODEL_FIELDS = new Set(["folder", "name", "source.repo", "source.file", "source.revision", "source.version_id", "source.url"]);
export const NODE_FIELDS = new Set(["name", "repo", "ref"]);

/** The fields the form has a place for. */
export function knownField(form: DeployForm): (field: string) => boolean {
  const fixed = new Set([
    "name", "gpu.id", "gpu.count", "cloud", "data_center_ids", "container_disk_gb", "volume_gb",
    "network_volume_id", "preset", "hf_token", "civitai_token", "manifest", "manifest.models", "manifest.custom_nodes",
  ]);
  return (field) => {
    if (fixed.has(field)) return true;
    const model = /^manifest\.models\.(\d+)(\..+)?$/.exec(field);
    if (model) return Number(model[1]) < form.models.length;
    const node = /^manifest\.custom_nodes\.(\d+)(\..+)?$/.exec(field);
    if (node) return Number(node[1]) < form.nodes.length;
    return /^preset\.models\.\d+$/.test(field);
  };
}
