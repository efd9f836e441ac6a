/**
 * The Deploy form: GPU and cloud, disks, what to install, tokens, a live estimate, and the one
 * POST that creates a paid pod (never twice). Server field errors are shown at their field.
 */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useMemo, useRef, useState, type ChangeEvent, type FormEvent, type ReactNode } from "react";
import { useLocation } from "wouter";
import { createDeployment, listGpus, listPresets, type DeploymentCreate } from "../../api/generated";
import { ApiError } from "../../api/http";
import { keys } from "../../api/queries";
import { bytes } from "../../lib/format";
import { Button, errorMessage } from "../ui";
import { EstimatePanel } from "./Estimate";
import { describe, errorId, FieldErrorText, SelectField, Section, TextField } from "./fields";
import {
  buildBody,
  COMFYUI_HEADROOM_BYTES,
  estimateRequest,
  fieldLabel,
  GB,
  INITIAL_FORM,
  keptPresetModels,
  knownField,
  maxCountIn,
  modelsSize,
  placeErrors,
  priceIn,
  type Cloud,
  type DeployForm as Form,
  type ErrorItem,
  type Storage,
} from "./form";
import { GpuPicker, offered } from "./GpuPicker";
import { ModelsSection } from "./ModelsSection";

const CLOUD_NAME: Record<Cloud, string> = { SECURE: "Secure", COMMUNITY: "Community" };

interface Problems {
  headline: string;
  items: ErrorItem[];
}

/** The first line of the list: that nothing was made, and whether trying again may do. */
function headlineOf(error: ApiError): string {
  if (error.status >= 500) return "The server could not finish its checks, so nothing was created. Try again in a moment:";
  return "The server refused the deploy; nothing was created:";
}

/** Scroll to a field and put the focus on its control (or its error, for a row or a preset model). */
function goToField(form: HTMLFormElement | null, field: string) {
  const id = errorId(field);
  const control = form?.querySelector<HTMLElement>(`[aria-describedby~="${CSS.escape(id)}"]`);
  const target = control ?? document.getElementById(id);
  target?.scrollIntoView?.({ block: "center" });
  target?.focus({ preventScroll: true });
}

/** Every problem of the last attempt, beside the Deploy button: at-field ones link to their field. */
function ProblemList({ problems, onGo }: { problems: Problems; onGo: (field: string) => void }) {
  return (
    <div role="alert" data-testid="deploy-error" className="mt-4 max-h-48 overflow-y-auto rounded-lg bg-rose-950/60 p-3 text-sm text-rose-100 ring-1 ring-rose-900 lg:max-h-none">
      <p>{problems.headline}</p>
      {problems.items.length > 0 && (
        <ul className="mt-2 space-y-1.5">
          {problems.items.map((item, i) => (
            <li key={i} data-testid="deploy-error-item" data-field={item.field ?? undefined} className="text-xs text-rose-200">
              {item.field ? (
                <button
                  type="button"
                  onClick={() => onGo(item.field!)}
                  className="rounded font-medium text-white underline decoration-rose-400 underline-offset-2 hover:decoration-white focus-visible:outline-2 focus-visible:outline-sky-400"
                >
                  {item.label}
                </button>
              ) : (
                item.label && <span className="font-medium text-white">{item.label}</span>
              )}
              {item.label ? `: ${item.message}` : item.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The form's keys that hold the text of one input or select. */
type TextKey = "name" | "dataCenter" | "containerDiskGb" | "volumeGb" | "networkVolumeId" | "hfToken" | "civitaiToken";

/** A disk size in whole GB, up to RunPod's 4096. */
const diskGb = (min: number) => ({ type: "number", inputMode: "numeric", min, max: 4096 }) as const;
/** A token: hidden, never autofilled or spell-checked. */
const SECRET = { type: "password", autoComplete: "off", spellCheck: false } as const;

/** A radio card whose accessible name is exactly `label` (the description is its description). */
function RadioCard({
  name,
  value,
  checked,
  onChange,
  label,
  description,
  disabled = false,
}: {
  name: string;
  value: string;
  checked: boolean;
  onChange: () => void;
  label: string;
  description: ReactNode;
  disabled?: boolean;
}) {
  const id = useId();
  return (
    <label
      className={`flex cursor-pointer gap-3 rounded-lg p-3 ring-1 ring-inset has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-offset-2 has-[:focus-visible]:outline-sky-400 ${
        checked ? "bg-sky-950/50 ring-sky-500" : "bg-slate-950/50 ring-slate-700 hover:ring-slate-500"
      } ${disabled ? "cursor-not-allowed opacity-50" : ""}`}
    >
      <input
        type="radio"
        name={name}
        value={value}
        checked={checked}
        onChange={onChange}
        disabled={disabled}
        aria-labelledby={`${id}-label`}
        aria-describedby={`${id}-desc`}
        className="mt-0.5 h-4 w-4 shrink-0 accent-sky-500 focus:outline-none"
      />
      <span className="min-w-0">
        <span id={`${id}-label`} className="block text-sm font-medium text-white">
          {label}
        </span>
        <span id={`${id}-desc`} className="block text-xs text-slate-400">
          {description}
        </span>
      </span>
    </label>
  );
}

function DiskFit({ form, required, knownBytes, unknownCount }: { form: Form; required: number; knownBytes: number; unknownCount: number }) {
  if (required === 0) return <p className="text-xs text-slate-500">No models chosen yet: ComfyUI itself needs about 10 GB of the volume.</p>;
  const unknown = unknownCount > 0 ? ` + ${unknownCount} model${unknownCount > 1 ? "s" : ""} of unknown size` : "";
  const summary = `Models ${bytes(knownBytes)}${unknown} + about ${bytes(COMFYUI_HEADROOM_BYTES)} for ComfyUI = ${bytes(required)}`;
  if (form.storage === "network") {
    return (
      <p className="text-xs text-slate-400" data-testid="disk-fit">
        {summary}, on the network volume (its size is not checked here; it may already hold them).
      </p>
    );
  }
  const volume = Number(form.volumeGb);
  if (!Number.isFinite(volume) || volume <= 0) return <p className="text-xs text-slate-400">{summary}.</p>;
  const disk = volume * GB;
  const fits = required <= disk;
  return (
    <div data-testid="disk-fit" data-fits={fits}>
      <div className="flex flex-wrap justify-between gap-x-3 text-xs">
        <span className={fits ? "text-slate-400" : "text-rose-300"}>{summary}</span>
        <span className="tabular-nums text-slate-400">of the {volume} GB volume</span>
      </div>
      <div className="mt-1.5 h-1.5 overflow-hidden rounded-full bg-slate-800" aria-hidden>
        <div className={`h-full rounded-full ${fits ? "bg-sky-400" : "bg-rose-500"}`} style={{ width: `${Math.min(100, (required / disk) * 100)}%` }} />
      </div>
      {!fits && (
        <p role="alert" className="mt-1.5 text-xs font-medium text-rose-300">
          The models do not fit on the volume: ask for at least {Math.ceil(required / GB)} GB.
        </p>
      )}
    </div>
  );
}

export function DeployForm() {
  const client = useQueryClient();
  const [, navigate] = useLocation();
  const [form, setForm] = useState<Form>(INITIAL_FORM);
  const [errors, setErrors] = useState<Record<string, string>>({});
  // What went wrong, beside the Deploy button: a headline and every problem, each linked to
  // the field that shows it (wherever on the page that is), or with its message alone.
  const [problems, setProblems] = useState<Problems | null>(null);
  const [tokensCleared, setTokensCleared] = useState(false);
  const inFlight = useRef(false);
  const pendingBody = useRef<DeploymentCreate | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const [focusErrors, setFocusErrors] = useState(0);
  // After a failed submit, take the user (and the keyboard focus) to the first bad field.
  useEffect(() => {
    if (!focusErrors) return;
    const first = formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]');
    const target = first?.matches('[role="radiogroup"]') ? first.querySelector<HTMLElement>('[tabindex="0"]') : first;
    target?.focus();
    target?.scrollIntoView?.({ block: "center" });
  }, [focusErrors]);

  const gpus = useQuery({
    queryKey: ["gpus", form.cloud],
    queryFn: ({ signal }) => listGpus({ cloud: form.cloud }, { signal }),
    placeholderData: keepPreviousData,
    staleTime: 60_000,
  });
  const presets = useQuery({ queryKey: ["presets"], queryFn: ({ signal }) => listPresets({ signal }), staleTime: 300_000 });

  const gpu = gpus.data?.gpus.find((g) => g.id === form.gpuId);
  const preset = presets.data?.presets.find((p) => p.id === form.preset);
  const maxCount = gpu ? maxCountIn(gpu, form.cloud) : 16;
  const kept = useMemo(() => keptPresetModels(preset, form.models), [preset, form.models]);
  const size = useMemo(() => modelsSize(preset, form.models), [preset, form.models]);
  const estimate = useMemo(() => estimateRequest(form, gpu), [form, gpu]);
  const unpriced = !form.gpuId
    ? "Choose a GPU to see what it costs."
    : gpu && !offered(gpu, form.cloud)
      ? `${gpu.name} is not offered in ${CLOUD_NAME[form.cloud]} cloud.`
      : null;

  /** Change the form, and drop the server's errors for the fields that changed. */
  const change = (patch: Partial<Form>, ...fields: string[]) => {
    setForm((f) => ({ ...f, ...patch }));
    if (fields.some((f) => f in errors)) setErrors((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !fields.includes(k))));
  };

  /** The field, error, value and change handler of the input that edits `key` (server field `field`). */
  const bind = (key: TextKey, field: string) => ({
    field,
    error: errors[field],
    value: form[key],
    onChange: (e: ChangeEvent<HTMLInputElement | HTMLSelectElement>) => change({ [key]: e.target.value }, field),
  });

  // The count field may be empty while the user types; what is sent is always 1..max.
  const [countDraft, setCountDraft] = useState<string | null>(null);
  // Set when a count above the GPU's largest machine was cut down to it: the hint then says why.
  const [countCut, setCountCut] = useState(false);
  const selectGpu = (id: string) => {
    const next = gpus.data?.gpus.find((g) => g.id === id);
    const max = next ? maxCountIn(next, form.cloud) : 16;
    const keepDc = next?.data_centers.some((d) => d.id === form.dataCenter);
    setCountDraft(null);
    setCountCut(max > 0 && form.count > max);
    change({ gpuId: id, count: max > 0 ? Math.min(form.count, max) : form.count, dataCenter: keepDc ? form.dataCenter : "" }, "gpu.id", "gpu.count", "data_center_ids");
  };
  const selectCloud = (cloud: Cloud) => {
    const max = gpu ? maxCountIn(gpu, cloud) : 16;
    setCountDraft(null);
    setCountCut(max > 0 && form.count > max);
    change(
      { cloud, count: max > 0 ? Math.min(form.count, max) : form.count, storage: cloud === "COMMUNITY" ? "pod" : form.storage },
      "cloud", "gpu.count", "network_volume_id",
    );
  };
  const setCount = (text: string) => {
    const n = Math.floor(Number(text));
    if (text.trim() === "" || !Number.isFinite(n)) {
      setCountDraft(text);
      setCountCut(false);
      return change({ count: 1 }, "gpu.count");
    }
    const clamped = Math.max(1, Math.min(n, Math.max(1, maxCount)));
    // Over the limit: what was typed stays until the field is left (then it shows the limit),
    // and the hint says what the limit is. Below 1 it is 1 at once.
    const over = maxCount > 0 && n > maxCount;
    setCountCut(over);
    setCountDraft(clamped === n || over ? text : null);
    change({ count: clamped }, "gpu.count");
  };

  const mutation = useMutation({
    // The body (tokens included) lives only in a ref until it is sent: never in the mutation's
    // variables, which TanStack keeps in its cache.
    mutationFn: () => {
      const body = pendingBody.current;
      pendingBody.current = null;
      if (!body) throw new Error("Nothing to send.");
      return createDeployment(body);
    },
    onSuccess: async (created) => {
      await client.invalidateQueries({ queryKey: keys.deployments });
      navigate(`/deployments/${encodeURIComponent(created.id)}`);
    },
    onError: (error) => {
      if (error instanceof ApiError && error.fieldErrors.length) {
        const placed = placeErrors(error.fieldErrors, form, preset, knownField(form));
        setErrors(placed.byField);
        setFocusErrors((n) => n + 1);
        setProblems({ headline: headlineOf(error), items: placed.items });
      } else {
        setErrors({});
        setProblems({ headline: errorMessage(error), items: [] });
      }
    },
    onSettled: () => {
      inFlight.current = false;
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (inFlight.current || mutation.isPending) return;
    const local: Record<string, string> = {};
    if (!form.name.trim()) local.name = "Give the deployment a name.";
    if (!form.gpuId) local["gpu.id"] = "Choose a GPU.";
    if (Object.keys(local).length) {
      setErrors(local);
      setProblems({
        headline: "Nothing was sent:",
        items: Object.entries(local).map(([field, message]) => ({ field, label: fieldLabel(field, preset), message })),
      });
      setFocusErrors((n) => n + 1);
      return;
    }
    inFlight.current = true;
    pendingBody.current = buildBody(form);
    setTokensCleared(Boolean(form.hfToken || form.civitaiToken));
    setForm((f) => ({ ...f, hfToken: "", civitaiToken: "" }));
    setErrors({});
    setProblems(null);
    mutation.mutate();
  };

  const dcOptions = gpu?.data_centers.filter((d) => d.availability !== "NONE") ?? [];
  const needsHf = Boolean(preset?.needs_hf_token) && !form.hfToken;

  return (
    <form ref={formRef} noValidate onSubmit={submit} className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_22rem] lg:items-start">
      <div className="min-w-0 space-y-6">
        <Section title="Pod and GPU">
          <div className="grid gap-4 sm:grid-cols-2">
            <TextField
              label="Name"
              {...bind("name", "name")}
              maxLength={40}
              autoComplete="off"
              spellCheck={false}
              placeholder="flux-dev"
              hint="Up to 40 letters, digits, '.', '_' or '-'; starts with a letter or digit."
            />
            <div role="radiogroup" aria-label="Cloud" className="grid grid-cols-2 gap-2 sm:self-start sm:pt-6" {...describe("cloud", errors.cloud)}>
              <RadioCard name="cloud" value="SECURE" checked={form.cloud === "SECURE"} onChange={() => selectCloud("SECURE")} label="Secure cloud" description="RunPod's data centers" />
              <RadioCard name="cloud" value="COMMUNITY" checked={form.cloud === "COMMUNITY"} onChange={() => selectCloud("COMMUNITY")} label="Community cloud" description="Cheaper, hosted by others" />
            </div>
            <FieldErrorText field="cloud" message={errors.cloud} />
          </div>
          <div className="mt-5">
            <GpuPicker
              gpus={gpus.data?.gpus}
              loading={gpus.isPending}
              updating={gpus.isPlaceholderData}
              loadError={gpus.error}
              onRetry={() => void gpus.refetch()}
              cloud={form.cloud}
              selectedId={form.gpuId}
              onSelect={selectGpu}
              error={errors["gpu.id"]}
            />
          </div>
          <div className="mt-5 grid gap-4 sm:grid-cols-2">
            <TextField
              label="GPU count"
              field="gpu.count"
              error={errors["gpu.count"]}
              type="number"
              inputMode="numeric"
              min={1}
              max={Math.max(1, maxCount)}
              step={1}
              value={countDraft ?? form.count}
              onChange={(e) => setCount(e.target.value)}
              onBlur={() => setCountDraft(null)}
              hint={
                countCut && maxCount > 0 ? (
                  <span role="status" data-testid="gpu-count-limit" className="text-amber-300">
                    {gpu ? `${gpu.name} comes at most ${maxCount} per pod in ${CLOUD_NAME[form.cloud]} cloud` : `At most ${maxCount} GPUs per pod`}
                    {countDraft === null ? `, so the count is ${maxCount}.` : `: it will be ${maxCount}.`}
                  </span>
                ) : gpu
                  ? maxCount > 0
                    ? `${gpu.name} machines have up to ${maxCount} in ${CLOUD_NAME[form.cloud]} cloud.`
                    : `Not offered in ${CLOUD_NAME[form.cloud]} cloud: choose another GPU or cloud.`
                  : "1 to 16, depending on the GPU."
              }
            />
            <SelectField
              label="Data center"
              {...bind("dataCenter", "data_center_ids")}
              disabled={!gpu}
              hint={gpu ? `${dcOptions.length} with stock for this GPU.` : "Choose a GPU first."}
            >
              <option value="">Any data center</option>
              {dcOptions.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.id} · {d.availability.toLowerCase()} stock
                </option>
              ))}
              {form.dataCenter && !dcOptions.some((d) => d.id === form.dataCenter) && (
                <option value={form.dataCenter}>{form.dataCenter} · no stock now</option>
              )}
            </SelectField>
          </div>
        </Section>

        <Section title="Disks" description="The volume keeps ComfyUI and the models while the pod is stopped.">
          <div className="grid gap-4 sm:grid-cols-2">
            <TextField
              label="Container disk (GB)"
              {...bind("containerDiskGb", "container_disk_gb")}
              {...diskGb(20)}
              hint="20 to 4096 GB; wiped when the pod stops."
            />
          </div>
          <div role="radiogroup" aria-label="Storage" className="mt-4 grid gap-2 sm:grid-cols-2">
            <RadioCard
              name="storage"
              value="pod"
              checked={form.storage === "pod"}
              onChange={() => change({ storage: "pod" as Storage }, "network_volume_id")}
              label="Pod volume"
              description="A new disk for this pod, destroyed when it is terminated"
            />
            <RadioCard
              name="storage"
              value="network"
              checked={form.storage === "network"}
              onChange={() => change({ storage: "network" as Storage }, "volume_gb")}
              label="Network volume"
              disabled={form.cloud !== "SECURE"}
              description={form.cloud === "SECURE" ? "An existing network volume of your account" : "Needs Secure cloud"}
            />
          </div>
          <div className="mt-4 grid gap-4 sm:grid-cols-2">
            {form.storage === "pod" ? (
              <TextField
                label="Volume (GB)"
                {...bind("volumeGb", "volume_gb")}
                {...diskGb(10)}
                hint="10 to 4096 GB; the models go here."
              />
            ) : (
              <TextField
                label="Network volume ID"
                {...bind("networkVolumeId", "network_volume_id")}
                autoComplete="off"
                spellCheck={false}
                placeholder="e.g. a1b2c3d4e5"
                hint="From RunPod's Storage page; it must be in the data center the pod runs in."
              />
            )}
          </div>
          <div className="mt-4">
            <DiskFit form={form} {...size} required={size.requiredBytes} />
          </div>
        </Section>

        <Section title="Models and custom nodes" description="What the pod installs before ComfyUI starts. The server checks every source.">
          <ModelsSection
            presets={presets.data?.presets}
            modelFolders={presets.data?.model_folders}
            presetsLoading={presets.isPending}
            presetsError={presets.error}
            onRetryPresets={() => void presets.refetch()}
            preset={form.preset}
            onPreset={(id) => change({ preset: id }, "preset")}
            models={form.models}
            onModels={(models) => setForm((f) => ({ ...f, models }))}
            nodes={form.nodes}
            onNodes={(nodes) => setForm((f) => ({ ...f, nodes }))}
            errors={errors}
            keptPresetModels={kept}
          />
        </Section>

        <Section title="Tokens" description="Write-only: kept on the server for this pod's downloads and never shown again.">
          <div className="grid gap-4 sm:grid-cols-2">
            <TextField
              label="Hugging Face token"
              {...bind("hfToken", "hf_token")}
              {...SECRET}
              placeholder="hf_…"
              hint={needsHf ? "This preset has gated models: give a token with access to them." : "For gated Hugging Face repositories."}
            />
            <TextField
              label="Civitai token"
              {...bind("civitaiToken", "civitai_token")}
              {...SECRET}
              hint="For Civitai models that need a login."
            />
          </div>
          {tokensCleared && !mutation.isPending && mutation.isError && (
            <p className="mt-3 text-xs text-amber-300">Tokens are cleared after each attempt: enter them again before deploying.</p>
          )}
        </Section>
      </div>

      {/* On a phone the estimate and the button stay in view at the bottom while the form
          scrolls; from lg up they sit beside the form. */}
      <aside
        data-testid="deploy-summary-bar"
        className="max-lg:sticky max-lg:bottom-0 max-lg:z-20 max-lg:-mx-4 max-lg:-mb-6 lg:sticky lg:top-20"
      >
        <section
          aria-labelledby="deploy-summary"
          className="bg-slate-900 p-4 ring-1 ring-slate-800 max-lg:rounded-t-xl max-lg:pb-[max(1rem,env(safe-area-inset-bottom))] max-lg:shadow-[0_-8px_24px_rgba(2,6,23,0.7)] sm:p-5 lg:rounded-xl"
        >
          <div className="flex items-baseline justify-between gap-3 lg:block">
            <h2 id="deploy-summary" className="text-base font-semibold text-white">
              Estimate
            </h2>
            <p className="min-w-0 truncate text-sm text-slate-400 lg:mt-0.5" data-testid="deploy-summary-gpu">
              {gpu ? `${form.count} × ${gpu.name} · ${CLOUD_NAME[form.cloud]} cloud` : "No GPU chosen"}
              {gpu && priceIn(gpu, form.cloud) === null ? " (not offered)" : ""}
            </p>
          </div>
          <div className="mt-2 lg:mt-4">
            <EstimatePanel request={estimate} unpriced={unpriced} />
          </div>
          {problems && <ProblemList problems={problems} onGo={(field) => goToField(formRef.current, field)} />}
          <Button type="submit" variant="primary" className="mt-3 w-full py-2.5 text-base lg:mt-4" disabled={mutation.isPending} aria-busy={mutation.isPending}>
            {mutation.isPending && <span aria-hidden className="h-4 w-4 animate-spin rounded-full border-2 border-slate-500 border-t-slate-200" />}
            Deploy
          </Button>
          <p className="mt-2 text-center text-xs text-slate-500 max-lg:hidden">Billing starts when the pod is created.</p>
        </section>
      </aside>
    </form>
  );
}
