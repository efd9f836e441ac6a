/**
 * The run form of a workflow: a target (a ready deployment or a registered server), its inputs
 * prefilled with the workflow's values, count and seed, and a live estimate of the GPU cost.
 * The server's refusals are shown at their fields (`overrides.<node>.<input>`, `count`, `seed`),
 * and a target that cannot run it lists node, input and missing file.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import { useLocation } from "wouter";
import type { RunCreate, WorkflowDetail, WorkflowInput } from "../../api/generated";
import { ApiError } from "../../api/http";
import { useComfyuiServers, useCreateRuns, useDeployments, useRuns, useUploadInputFile } from "../../api/queries";
import { duration, usd } from "../../lib/format";
import { Button, Card, errorMessage } from "../ui";
import { RegisterServer } from "./RegisterServer";
import { estimateRun, fieldText, inputsByNode, isInputImage, isSeedInput, overridesFrom, parseWhole, type Target } from "./logic";

const INPUT = "mt-1 w-full rounded-md bg-slate-950 px-3 py-2 text-sm text-white ring-1 ring-slate-700 focus:outline-none focus:ring-2 focus:ring-sky-500 aria-[invalid=true]:ring-rose-500";

interface Problem {
  reason?: string;
  node_id?: string;
  class_type?: string;
  input?: string | null;
  value?: unknown;
  message?: string;
  provided_by?: { preset: string; folder: string; source: string }[];
}

function useTargets() {
  const deployments = useDeployments();
  const servers = useComfyuiServers();
  const targets = useMemo(() => {
    const list: { value: string; label: string; target: Target }[] = [];
    for (const d of deployments.data?.deployments ?? []) {
      if (d.state === "ready") list.push({ value: `deployment:${d.id}`, label: `${d.name} (pod, ${d.gpu.count}× ${d.gpu.id})`, target: { kind: "deployment", deployment: d } });
    }
    for (const s of servers.data?.items ?? []) {
      list.push({ value: `server:${s.id}`, label: `${s.name} (server, ${s.url})`, target: { kind: "server", id: s.id, name: s.name } });
    }
    return list;
  }, [deployments.data, servers.data]);
  return { targets, loading: deployments.isPending || servers.isPending };
}

export function RunForm({ workflow }: { workflow: WorkflowDetail }) {
  const { targets, loading } = useTargets();
  const [targetValue, setTargetValue] = useState("");
  // A target picked by hand that is no longer listed (its pod stopped) is not swapped for
  // another one behind the user's back: the form asks for a new pick instead.
  const chosen = targetValue ? targets.find((t) => t.value === targetValue) : targets[0];
  // The first target shown is held as the pick, so that a pod becoming ready later does not
  // change where an untouched form runs.
  useEffect(() => {
    if (targetValue === "" && targets[0]) setTargetValue(targets[0].value);
  }, [targetValue, targets]);
  const lost = targetValue !== "" && chosen === undefined && !loading;
  const [texts, setTexts] = useState<Record<string, string>>({});
  const [count, setCount] = useState("1");
  const [seed, setSeed] = useState("");
  const [seedMode, setSeedMode] = useState<NonNullable<RunCreate["seed_mode"]>>("increment");
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const [registering, setRegistering] = useState(false);
  const create = useCreateRuns();
  const sending = useRef(false); // a double click queues one batch, not two
  const [, navigate] = useLocation();

  const deploymentId = chosen?.target.kind === "deployment" ? chosen.target.deployment.id : undefined;
  const earlier = useRuns({ workflow_id: workflow.id, deployment_id: deploymentId, state: "succeeded", limit: 20 });
  const countN = /^\d+$/.test(count) ? Number(count) : 1;
  const estimate = estimateRun(chosen?.target, deploymentId ? (earlier.data?.items ?? []) : [], countN);
  const hasSeed = workflow.inputs.some(isSeedInput);

  const apiError = create.error instanceof ApiError ? create.error : undefined;
  const fieldError = (field: string) => localErrors[field] ?? apiError?.forField(field);
  const problems = (apiError?.code === "not_runnable_on_target" ? (apiError.details.problems as Problem[] | undefined) : undefined) ?? [];
  const problemAt = (input: WorkflowInput) => problems.find((p) => p.node_id === input.node_id && p.input === input.input)?.message;
  const otherProblems = problems.filter((p) => !workflow.inputs.some((i) => i.node_id === p.node_id && i.input === p.input));

  const submit = () => {
    if (!chosen || sending.current) return;
    const { overrides, errors } = overridesFrom(workflow.inputs, texts);
    const fieldErrors: Record<string, string> = Object.fromEntries(Object.entries(errors).map(([k, v]) => [`overrides.${k}`, v]));
    if (!/^\d+$/.test(count) || countN < 1 || countN > 100) fieldErrors.count = "Between 1 and 100 runs.";
    const seedValue = seed.trim() === "" ? undefined : parseWhole(seed, { min: 0 });
    if (seedValue && !seedValue.ok) fieldErrors.seed = `Must be ${seedValue.message}.`;
    setLocalErrors(fieldErrors);
    if (Object.keys(fieldErrors).length) return;
    const body: RunCreate = {
      workflow_id: workflow.id,
      workflow_version: workflow.latest_version,
      overrides,
      count: countN,
      ...(chosen.target.kind === "deployment" ? { deployment_id: chosen.target.deployment.id } : { server_id: chosen.target.id }),
      ...(seedValue?.ok ? { seed: seedValue.value as number, seed_mode: seedMode } : {}),
    };
    sending.current = true;
    create.mutate(body, {
      onSuccess: (batch) => navigate(batch.runs.length === 1 ? `/runs/${batch.runs[0]!.id}` : `/runs?batch=${batch.batch_id}`),
      onSettled: () => {
        sending.current = false;
      },
    });
  };

  return (
    <Card className="p-4" aria-labelledby="run-form-heading">
      <h2 id="run-form-heading" className="text-lg font-semibold text-white">
        Run version {workflow.latest_version}
      </h2>
      <form
        className="mt-3 space-y-4"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          submit();
        }}
      >
        <div className="text-sm text-slate-300">
          <label className="block">
            Target
            {targets.length === 0 ? (
              <p className="mt-1 text-sm text-slate-400" data-testid="no-targets">
                {loading ? "Loading targets…" : "No ready deployment and no registered ComfyUI server: deploy one, or register a server, to run this."}
              </p>
            ) : (
              <select
                className={INPUT}
                value={chosen?.value ?? ""}
                onChange={(e) => {
                  setTargetValue(e.target.value);
                  create.reset(); // another target: the last one's refusals no longer hold
                }}
              >
                {lost && (
                  <option value="" disabled>
                    Pick a target
                  </option>
                )}
                {targets.map((t) => (
                  <option key={t.value} value={t.value}>
                    {t.label}
                  </option>
                ))}
              </select>
            )}
          </label>
          {lost && (
            <p role="alert" data-testid="target-lost" className="mt-1 text-xs text-amber-300">
              The target you picked is not ready any more (stopped, or gone): pick another.
            </p>
          )}
          <button type="button" className="mt-1 text-xs text-sky-300 hover:text-sky-200" onClick={() => setRegistering(true)}>
            Register a ComfyUI server…
          </button>
        </div>

        {inputsByNode(workflow.inputs).map((group) => (
          <fieldset key={group.nodeId} className="rounded-lg p-3 ring-1 ring-slate-800">
            <legend className="px-1 text-xs font-medium text-slate-300">
              {group.classType} <span className="font-mono normal-case text-slate-500">#{group.nodeId}</span>
            </legend>
            <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
              {group.inputs.map((input) => (
                <InputField
                  key={input.key}
                  input={input}
                  text={texts[input.key] ?? fieldText(input, input.default)}
                  onChange={(text) => setTexts((t) => ({ ...t, [input.key]: text }))}
                  error={fieldError(`overrides.${input.key}`) ?? problemAt(input)}
                  note={hasSeed && isSeedInput(input) && seed.trim() !== "" ? "Set by the Seed below." : undefined}
                  target={chosen?.target}
                />
              ))}
            </div>
          </fieldset>
        ))}

        <div className="grid grid-cols-2 gap-3 sm:grid-cols-3">
          <label className="block text-sm text-slate-300">
            Count
            <input className={INPUT} inputMode="numeric" value={count} onChange={(e) => setCount(e.target.value)} aria-invalid={fieldError("count") ? true : undefined} />
            {fieldError("count") && <span className="mt-1 block text-xs text-rose-300">{fieldError("count")}</span>}
          </label>
          <label className="block text-sm text-slate-300">
            Seed <span className="text-slate-500">(blank: the workflow's)</span>
            <input className={INPUT} inputMode="numeric" value={seed} onChange={(e) => setSeed(e.target.value)} aria-invalid={fieldError("seed") ? true : undefined} />
            {fieldError("seed") && <span className="mt-1 block text-xs text-rose-300">{fieldError("seed")}</span>}
          </label>
          {countN > 1 && seed.trim() !== "" && (
            <label className="block text-sm text-slate-300">
              Seeds over the runs
              <select className={INPUT} value={seedMode} onChange={(e) => setSeedMode(e.target.value as typeof seedMode)}>
                <option value="increment">seed, seed+1, …</option>
                <option value="random">random after the first</option>
                <option value="fixed">the same seed</option>
              </select>
            </label>
          )}
        </div>

        <div data-testid="run-estimate" data-kind={estimate.kind} className="rounded-lg bg-slate-950 p-3 text-sm ring-1 ring-slate-800">
          {estimate.kind === "estimate" ? (
            <p className="text-slate-200">
              About <span className="font-semibold text-white">{usd(estimate.totalUsd, { precise: true })}</span> of GPU time:{" "}
              {countN} × {duration(estimate.perRunS)} at {usd(estimate.perHourUsd, { precise: true })}/h
              <span className="block text-xs text-slate-500">
                From the median of {estimate.basedOn} earlier run{estimate.basedOn === 1 ? "" : "s"} of this workflow on this pod.
              </span>
            </p>
          ) : (
            <p className="text-slate-400">{estimate.reason}</p>
          )}
        </div>

        {create.error && !Object.keys(localErrors).length && (
          <div role="alert" data-testid="run-error" className="rounded-md bg-rose-950/60 p-3 text-sm text-rose-100 ring-1 ring-rose-900">
            <p>
              {problems.length > 0 && otherProblems.length === 0
                ? `${chosen?.target.kind === "deployment" ? chosen.target.deployment.name : (chosen?.target.name ?? "This target")} cannot run this as it is: see the inputs marked above.`
                : errorMessage(create.error)}
            </p>
            {otherProblems.length > 0 && (
              <ul className="mt-2 list-disc space-y-1 pl-5">
                {otherProblems.map((p, i) => (
                  <li key={i}>
                    {p.message}
                    {p.provided_by?.length ? ` (brought by the preset ${p.provided_by.map((s) => s.preset).join(", ")})` : ""}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}

        <Button type="submit" variant="primary" disabled={!chosen || create.isPending}>
          {create.isPending ? "Queueing…" : countN > 1 ? `Queue ${countN} runs` : "Run"}
        </Button>
      </form>
      {/* Outside the run form: a form inside a form would submit both. */}
      {registering && (
        <RegisterServer
          onClose={() => setRegistering(false)}
          onRegistered={(server) => {
            setRegistering(false);
            setTargetValue(`server:${server.id}`);
          }}
        />
      )}
    </Card>
  );
}

function InputField({
  input,
  text,
  onChange,
  error,
  note,
  target,
}: {
  input: WorkflowInput;
  text: string;
  onChange: (text: string) => void;
  error?: string;
  note?: string;
  target?: Target;
}) {
  const label = (
    <>
      {input.input} <span className="font-mono text-xs text-slate-500">{input.key}</span>
    </>
  );
  const invalid = error ? true : undefined;
  const long = input.type === "STRING" && (text.length > 40 || text.includes("\n"));
  return (
    <label className={`block text-sm text-slate-300 ${long ? "sm:col-span-2" : ""}`} data-testid="run-input" data-key={input.key}>
      {input.type === "BOOLEAN" ? (
        <span className="flex items-center gap-2">
          <input type="checkbox" checked={text === "true"} onChange={(e) => onChange(String(e.target.checked))} aria-invalid={invalid} />
          {label}
        </span>
      ) : (
        <>
          {label}
          {long || input.type === "JSON" ? (
            <textarea className={`${INPUT} min-h-20`} value={text} onChange={(e) => onChange(e.target.value)} aria-invalid={invalid} />
          ) : (
            <input
              className={INPUT}
              value={text}
              inputMode={input.type === "INT" ? "numeric" : input.type === "FLOAT" ? "decimal" : undefined}
              onChange={(e) => onChange(e.target.value)}
              aria-invalid={invalid}
            />
          )}
        </>
      )}
      {note && <span className="mt-1 block text-xs text-slate-500">{note}</span>}
      {error && <span className="mt-1 block text-xs text-rose-300">{error}</span>}
      {isInputImage(input) && <InputImageUpload input={input} target={target} onUploaded={onChange} />}
    </label>
  );
}

/** Upload an image to the target's ComfyUI and set the input to the name it was given. */
function InputImageUpload({ input, target, onUploaded }: { input: WorkflowInput; target?: Target; onUploaded: (reference: string) => void }) {
  const upload = useUploadInputFile();
  if (!target) return null;
  const where = target.kind === "deployment" ? { deployment_id: target.deployment.id } : { server_id: target.id };
  return (
    <span className="mt-1 flex flex-wrap items-center gap-2 text-xs">
      <input
        type="file"
        accept="image/*"
        aria-label={`Upload an image for ${input.key}`}
        className="max-w-full text-slate-400 file:mr-2 file:rounded file:border-0 file:bg-slate-800 file:px-2 file:py-1 file:text-slate-100"
        disabled={upload.isPending}
        onChange={(event) => {
          const file = event.target.files?.[0];
          event.target.value = "";
          if (file) upload.mutate({ file, target: where }, { onSuccess: (done) => onUploaded(done.reference) });
        }}
      />
      {upload.isPending && <span className="text-slate-400">Uploading…</span>}
      {upload.error && <span className="text-rose-300">{errorMessage(upload.error)}</span>}
    </span>
  );
}
