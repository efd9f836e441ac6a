/** The workflow pages' pure logic: which files may be dropped, the inputs form, the run's estimate. */
import type { DeploymentView, RunView, WorkflowInput } from "../../api/generated";

/** The server's body limit for `/workflows` uploads. */
export const MAX_WORKFLOW_BYTES = 32 * 1024 * 1024;
const ACCEPTED = /\.(json|png|webp)$/i;
export const ACCEPT_ATTR = ".json,.png,.webp,application/json,image/png,image/webp";

/** Why this file cannot be a workflow, before it is sent (the server checks its content). */
export function fileProblem(file: File): string | null {
  if (!ACCEPTED.test(file.name)) {
    return `${file.name} is not a workflow file: drop a JSON saved or exported by ComfyUI, or a PNG/WebP that ComfyUI wrote.`;
  }
  if (file.size === 0) return `${file.name} is empty.`;
  if (file.size > MAX_WORKFLOW_BYTES) return `${file.name} is larger than 32 MB, the most a workflow upload may be.`;
  return null;
}

/** The library name a file suggests: its name without the extension. */
export function nameFromFile(file: File): string {
  return file.name.replace(/\.[^.]+$/, "").trim().slice(0, 100) || "workflow";
}

/** Inputs grouped by node, in the prompt's order, for the form. */
export function inputsByNode(inputs: WorkflowInput[]): { nodeId: string; classType: string; inputs: WorkflowInput[] }[] {
  const groups = new Map<string, { nodeId: string; classType: string; inputs: WorkflowInput[] }>();
  for (const input of inputs) {
    const group = groups.get(input.node_id) ?? { nodeId: input.node_id, classType: input.class_type, inputs: [] };
    group.inputs.push(input);
    groups.set(input.node_id, group);
  }
  return [...groups.values()];
}

/** A seed input, which the form's Seed field sets for every run of the batch. */
export function isSeedInput(input: WorkflowInput): boolean {
  return input.input === "seed" || input.input === "noise_seed";
}

/** An input that names a file in ComfyUI's `input/` folder (LoadImage and its kin). */
export function isInputImage(input: WorkflowInput): boolean {
  return input.input === "image" && /^LoadImage/.test(input.class_type);
}

/** What the form field shows for a value. */
export function fieldText(input: WorkflowInput, value: unknown): string {
  if (value === null || value === undefined) return "";
  if (input.type === "JSON" || typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export type Parsed = { ok: true; value: unknown } | { ok: false; message: string };

/**
 * A whole number that JSON carries exactly: past 2^53 a browser's number silently rounds
 * (a seed of 18446744073709551615 would be sent as another seed), so such values are refused.
 */
export function parseWhole(text: string, { min }: { min?: number } = {}): Parsed {
  const trimmed = text.trim();
  if (!/^-?\d+$/.test(trimmed)) return { ok: false, message: "a whole number" };
  const value = Number(trimmed);
  if (!Number.isSafeInteger(value)) return { ok: false, message: `at most ${Number.MAX_SAFE_INTEGER} (the largest whole number a browser sends exactly)` };
  if (min !== undefined && value < min) return { ok: false, message: `${min} or more` };
  return { ok: true, value };
}

/** The typed value of a field's text, or why it is not one. */
export function parseField(input: WorkflowInput, text: string): Parsed {
  switch (input.type) {
    case "INT":
      return parseWhole(text);
    case "FLOAT": {
      const n = Number(text.trim());
      if (text.trim() === "" || !Number.isFinite(n)) return { ok: false, message: "a number" };
      return { ok: true, value: n };
    }
    case "BOOLEAN":
      return { ok: true, value: text === "true" };
    case "JSON":
      try {
        return { ok: true, value: JSON.parse(text) };
      } catch {
        return { ok: false, message: "valid JSON" };
      }
    default:
      return { ok: true, value: text };
  }
}

/**
 * The overrides to send: only the fields whose value differs from the workflow's default (so
 * that the run is the workflow as stored, plus what the user changed), or the field errors.
 */
export function overridesFrom(
  inputs: WorkflowInput[],
  texts: Record<string, string>,
): { overrides: Record<string, unknown>; errors: Record<string, string> } {
  const overrides: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const input of inputs) {
    const text = texts[input.key];
    if (text === undefined || text === fieldText(input, input.default)) continue;
    const parsed = parseField(input, text);
    if (!parsed.ok) errors[input.key] = `Must be ${parsed.message}.`;
    else overrides[input.key] = parsed.value;
  }
  return { overrides, errors };
}

export type Target = { kind: "deployment"; deployment: DeploymentView } | { kind: "server"; id: string; name: string };

export type Estimate =
  | { kind: "estimate"; perRunS: number; totalUsd: number; perHourUsd: number; basedOn: number }
  | { kind: "unknown"; reason: string };

/** How long a finished run took on its target, from being sent to ComfyUI to its end. */
export function runSeconds(run: RunView): number | null {
  const from = run.started_at ?? run.submitted_at;
  if (!from || !run.finished_at) return null;
  const s = (Date.parse(run.finished_at) - Date.parse(from)) / 1000;
  return Number.isFinite(s) && s >= 0 ? s : null;
}

/**
 * The GPU cost of `count` runs: the target's rate times the time earlier successful runs of
 * this workflow took there (their median), run after run (one ComfyUI runs one prompt at a
 * time). Said plainly when it cannot be known: a server we do not bill, or no earlier run.
 */
export function estimateRun(target: Target | undefined, earlier: RunView[], count: number): Estimate {
  if (!target) return { kind: "unknown", reason: "Pick a target to see what the run costs." };
  if (target.kind === "server") {
    return { kind: "unknown", reason: "Not estimated: a registered ComfyUI server is not a pod ComfyHangar pays for." };
  }
  const perHourUsd = Number(target.deployment.cost.per_hour_usd);
  if (!Number.isFinite(perHourUsd)) return { kind: "unknown", reason: "Cannot be estimated: the pod's rate is unknown." };
  const times = earlier
    .filter((r) => r.state === "succeeded")
    .map(runSeconds)
    .filter((s): s is number => s !== null)
    .sort((a, b) => a - b);
  if (times.length === 0) {
    return {
      kind: "unknown",
      reason: `Cannot be estimated yet: this workflow has not run on ${target.deployment.name} before. The pod bills $${perHourUsd.toFixed(3)}/h while it is up, running or not.`,
    };
  }
  const mid = Math.floor(times.length / 2);
  const perRunS = times.length % 2 ? times[mid]! : (times[mid - 1]! + times[mid]!) / 2;
  return { kind: "estimate", perRunS, totalUsd: (perHourUsd * perRunS * Math.max(1, count)) / 3600, perHourUsd, basedOn: times.length };
}
