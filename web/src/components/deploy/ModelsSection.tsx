/** What the pod installs: a preset, custom model rows (the manifest's three source types) and custom nodes. */
import type { ChangeEvent } from "react";
import type { PresetView } from "../../api/generated";
import { bytes } from "../../lib/format";
import { Button, ErrorState } from "../ui";
import { FieldErrorText, SelectField, TextField } from "./fields";
import { newModelRow, newNodeRow, type ModelRow, type NodeRow, type SourceType } from "./form";

const SOURCES: { value: SourceType; label: string }[] = [
  { value: "huggingface", label: "Hugging Face" },
  { value: "civitai", label: "Civitai" },
  { value: "url", label: "URL" },
];

interface Props {
  presets: PresetView[] | undefined;
  /** The folders a model may go to (from GET /presets); undefined while they load. */
  modelFolders: string[] | undefined;
  presetsLoading: boolean;
  presetsError: unknown;
  onRetryPresets: () => void;
  preset: string;
  onPreset: (id: string) => void;
  models: ModelRow[];
  onModels: (rows: ModelRow[]) => void;
  nodes: NodeRow[];
  onNodes: (rows: NodeRow[]) => void;
  errors: Record<string, string>;
  /** Indices of the chosen preset's models kept after the custom rows replace same-named ones. */
  keptPresetModels: number[];
}

/** The manifest format (docs/manifest.md), opened beside the form so nothing typed is lost. */
function ManifestLink() {
  return (
    <a href="/docs/manifest" target="_blank" rel="noopener" className="text-sky-400 hover:underline">
      The manifest format: every field, sources, limits ↗
    </a>
  );
}

export function ModelsSection(props: Props) {
  const { presets, preset: presetId, models, nodes, errors } = props;
  const preset = presets?.find((p) => p.id === presetId);
  const updateModel = (key: number, patch: Partial<ModelRow>) => props.onModels(models.map((m) => (m.key === key ? { ...m, ...patch } : m)));
  const updateNode = (key: number, patch: Partial<NodeRow>) => props.onNodes(nodes.map((n) => (n.key === key ? { ...n, ...patch } : n)));

  return (
    <div className="space-y-5">
      <FieldErrorText field="manifest" message={errors.manifest} />
      <div>
        <SelectField
          label="Model preset"
          field="preset"
          error={errors.preset}
          value={presetId}
          onChange={(e) => props.onPreset(e.target.value)}
          hint={props.presetsLoading ? "Loading presets…" : undefined}
        >
          <option value="">No preset</option>
          {presets?.map((p) => (
            <option key={p.id} value={p.id}>
              {p.title} · {bytes(p.total_bytes)}
              {p.needs_hf_token ? " · gated: needs a Hugging Face token" : " · no token needed"}
            </option>
          ))}
          {/* Keep a chosen preset selectable while the list reloads. */}
          {presetId && !preset && <option value={presetId}>{presetId}</option>}
        </SelectField>
        {Boolean(props.presetsError) && !presets && (
          <div className="mt-2">
            <ErrorState title="Could not load the presets" error={props.presetsError} onRetry={props.onRetryPresets} />
          </div>
        )}
        {preset && <PresetDetails preset={preset} kept={props.keptPresetModels} errors={errors} />}
      </div>

      <fieldset>
        <legend className="text-sm font-medium text-slate-300">Custom models</legend>
        <p className="text-xs text-slate-500">
          Added to the preset; a model with the same folder and file name replaces the preset's.{" "}
          <ManifestLink />
        </p>
        <FieldErrorText field="manifest.models" message={errors["manifest.models"]} />
        <div className="mt-2 space-y-3">
          {models.map((row, i) => (
            <ModelRowEditor
              key={row.key}
              index={i}
              row={row}
              folders={props.modelFolders}
              errors={errors}
              onChange={(patch) => updateModel(row.key, patch)}
              onRemove={() => props.onModels(models.filter((m) => m.key !== row.key))}
            />
          ))}
        </div>
        <Button size="sm" className="mt-3" onClick={() => props.onModels([...models, newModelRow()])}>
          + Add model
        </Button>
      </fieldset>

      <fieldset>
        <legend className="text-sm font-medium text-slate-300">Custom nodes</legend>
        <p className="text-xs text-slate-500">
          Git repositories cloned into ComfyUI's custom_nodes (https on an allowed host). <ManifestLink />
        </p>
        <FieldErrorText field="manifest.custom_nodes" message={errors["manifest.custom_nodes"]} />
        <div className="mt-2 space-y-3">
          {nodes.map((row, i) => {
            const at = `manifest.custom_nodes.${i}`;
            const bind = (key: "name" | "repo" | "ref") => ({
              field: `${at}.${key}`,
              error: errors[`${at}.${key}`],
              value: row[key],
              onChange: (e: ChangeEvent<HTMLInputElement>) => updateNode(row.key, { [key]: e.target.value }),
            });
            return (
              <div key={row.key} role="group" aria-label={`Custom node ${i + 1}`} className="rounded-lg bg-slate-950/50 p-3 ring-1 ring-slate-800">
                <div className="grid gap-3 sm:grid-cols-[minmax(0,10rem)_minmax(0,1fr)_minmax(0,8rem)_auto] sm:items-start">
                  <TextField label="Install as" {...bind("name")} placeholder="the repo's name" />
                  <TextField
                    label="Git repo URL"
                    {...bind("repo")}
                    type="url"
                    inputMode="url"
                    placeholder="https://github.com/owner/repo"
                  />
                  <TextField label="Ref" {...bind("ref")} placeholder="main" />
                  <Button variant="ghost" size="sm" className="justify-self-end sm:mb-1 sm:self-end" aria-label={`Remove custom node ${i + 1}`} onClick={() => props.onNodes(nodes.filter((n) => n.key !== row.key))}>
                    Remove
                  </Button>
                </div>
                <FieldErrorText field={at} message={errors[at]} />
              </div>
            );
          })}
        </div>
        <Button size="sm" className="mt-3" onClick={() => props.onNodes([...nodes, newNodeRow()])}>
          + Add custom node
        </Button>
      </fieldset>
    </div>
  );
}

function PresetDetails({ preset, kept, errors }: { preset: PresetView; kept: number[]; errors: Record<string, string> }) {
  return (
    <div className="mt-3 rounded-lg bg-slate-950/50 p-3 text-sm ring-1 ring-slate-800" data-testid="preset-details">
      <p className="text-slate-300">{preset.description}</p>
      {preset.needs_hf_token && (
        <p className="mt-2 text-xs text-amber-300" data-testid="preset-gated">
          Gated on Hugging Face: give a Hugging Face token (under Tokens) of an account that accepted the model's license, or the
          deploy is refused. An ungated set, such as FLUX.1-schnell, needs none.
        </p>
      )}
      <ul className="mt-2 divide-y divide-slate-800/80">
        {preset.models.map((m, i) => (
          <li key={`${m.folder}/${m.name}`} className="py-1.5">
            <div className="flex items-center gap-2">
              <span className={`min-w-0 flex-1 truncate ${kept.includes(i) ? "text-slate-200" : "text-slate-500 line-through"}`}>
                <span className="text-slate-500">{m.folder}/</span>
                {m.name}
              </span>
              {m.gated && <span className="shrink-0 rounded bg-amber-950 px-1.5 text-[11px] text-amber-300 ring-1 ring-amber-900">needs HF token</span>}
              <span className="shrink-0 tabular-nums text-slate-400">{bytes(m.size)}</span>
            </div>
            <FieldErrorText field={`preset.models.${i}`} message={errors[`preset.models.${i}`]} />
          </li>
        ))}
      </ul>
      {preset.nodes.length > 0 && (
        <p className="mt-2 text-xs text-slate-400">Custom nodes: {preset.nodes.map((n) => n.name).join(", ")}</p>
      )}
    </div>
  );
}

function ModelRowEditor({
  index,
  row,
  folders,
  errors,
  onChange,
  onRemove,
}: {
  index: number;
  row: ModelRow;
  folders: string[] | undefined;
  errors: Record<string, string>;
  onChange: (patch: Partial<ModelRow>) => void;
  onRemove: () => void;
}) {
  const at = `manifest.models.${index}`;
  /** The field, error, value and change handler of the input that edits `key` (manifest field `sub`). */
  const bind = (key: "folder" | "name" | "repo" | "file" | "revision" | "versionId" | "url", sub: string) => ({
    field: `${at}.${sub}`,
    error: errors[`${at}.${sub}`],
    value: row[key],
    onChange: (e: ChangeEvent<HTMLInputElement | HTMLSelectElement>) => onChange({ [key]: e.target.value }),
  });
  return (
    <div role="group" aria-label={`Custom model ${index + 1}`} className="rounded-lg bg-slate-950/50 p-3 ring-1 ring-slate-800" data-testid="model-row">
      <div className="grid gap-3 sm:grid-cols-[minmax(0,11rem)_minmax(0,1fr)_minmax(0,9rem)_auto] sm:items-start">
        <SelectField
          label="Folder"
          {...bind("folder", "folder")}
          disabled={!folders}
        >
          {/* Until the folders load (or if the list lacks it), the row's folder is the one choice shown. */}
          {(folders?.includes(row.folder) ? folders : [row.folder, ...(folders ?? [])]).map((f) => (
            <option key={f} value={f}>
              {f}
            </option>
          ))}
        </SelectField>
        <TextField
          label="Save as"
          {...bind("name", "name")}
          placeholder={row.type === "huggingface" ? "defaults to the repo file's name" : "model.safetensors"}
        />
        <SelectField label="Source" field={`${at}.source.type`} value={row.type} onChange={(e) => onChange({ type: e.target.value as SourceType })}>
          {SOURCES.map((s) => (
            <option key={s.value} value={s.value}>
              {s.label}
            </option>
          ))}
        </SelectField>
        <Button variant="ghost" size="sm" className="justify-self-end sm:mb-1 sm:self-end" aria-label={`Remove custom model ${index + 1}`} onClick={onRemove}>
          Remove
        </Button>
      </div>
      <div className="mt-3 grid grid-cols-2 gap-3 sm:grid-cols-[minmax(0,1fr)_minmax(0,1fr)_minmax(0,7rem)_minmax(0,7rem)]">
        {row.type === "huggingface" && (
          <>
            <TextField className="col-span-2 sm:col-span-1" label="Repo" {...bind("repo", "source.repo")} placeholder="org/name" />
            <TextField className="col-span-2 sm:col-span-1" label="File in repo" {...bind("file", "source.file")} placeholder="path/model.safetensors" />
            <TextField label="Revision" {...bind("revision", "source.revision")} placeholder="main" />
          </>
        )}
        {row.type === "civitai" && (
          <TextField
            label="Model version ID"
            {...bind("versionId", "source.version_id")}
            inputMode="numeric"
            placeholder="e.g. 128713"
            className="col-span-2 sm:col-span-3"
          />
        )}
        {row.type === "url" && (
          <TextField
            label="URL"
            {...bind("url", "source.url")}
            type="url"
            inputMode="url"
            placeholder="https://huggingface.co/…/model.safetensors"
            className="col-span-2 sm:col-span-3"
          />
        )}
        <TextField
          label="Size (GB)"
          field={`${at}.size`}
          inputMode="decimal"
          value={row.sizeGb}
          placeholder="optional"
          title="Approximate, for the disk check on this page; the pod checks the real size"
          className={row.type === "huggingface" ? "" : "col-span-2 sm:col-span-1"}
          onChange={(e) => onChange({ sizeGb: e.target.value })}
        />
      </div>
      <FieldErrorText field={at} message={errors[at]} />
    </div>
  );
}
