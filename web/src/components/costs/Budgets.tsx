/**
 * Budgets: each with its spend in the current period and its state, a form to create one,
 * inline edit of the limit and action (PATCH), delete after a confirmation.
 */
import { useState, type FormEvent } from "react";
import type { BudgetCreate, BudgetView } from "../../api/generated";
import { useDeployments } from "../../api/queries";
import { usd } from "../../lib/format";
import { Button, ConfirmDialog, EmptyState, ErrorState, Skeleton } from "../ui";
import { CONTROL, Field, formLevelError, serverFieldError } from "./fields";
import { useBudgets, useCreateBudget, useDeleteBudget, useUpdateBudget } from "./queries";
import { num, shortDateTime } from "./range";
import { Section } from "./Section";

type OnExceed = BudgetView["on_exceed"];
export const ON_EXCEED: Record<OnExceed, { option: string; effect: string }> = {
  warn: { option: "Only warn", effect: "only warns" },
  stop: { option: "Stop the pods", effect: "stops the pods" },
  terminate: { option: "Terminate the pods", effect: "terminates the pods" },
};

const STATE: Record<BudgetView["state"], { label: string; badge: string; bar: string }> = {
  ok: { label: "OK", badge: "bg-emerald-900/70 text-emerald-200", bar: "bg-emerald-400" },
  warning: { label: "Warning", badge: "bg-amber-900/70 text-amber-200", bar: "bg-amber-400" },
  exceeded: { label: "Exceeded", badge: "bg-rose-900/80 text-rose-100", bar: "bg-rose-500" },
};

/** "50, 80, 90" (percent) into [0.5, 0.8, 0.9]; null when a part is not a percentage in (0, 100). */
export function parseThresholds(text: string): number[] | null {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  const values = parts.map((part) => Number(part.replace(/%$/, "")));
  if (values.some((v) => !Number.isFinite(v) || v <= 0 || v >= 100)) return null;
  return values.map((v) => Math.round(v * 100) / 10_000);
}

function useDeploymentNames() {
  const deployments = useDeployments();
  const list = deployments.data?.deployments ?? [];
  return {
    list: list.filter((d) => d.state !== "terminated"),
    name: (id: string) => list.find((d) => d.id === id)?.name,
  };
}

function BudgetBar({ budget }: { budget: BudgetView }) {
  const limit = num(budget.limit_usd);
  const ratio = limit > 0 ? num(budget.spent_usd) / limit : 0;
  const pct = Math.max(0, Math.min(100, ratio * 100));
  return (
    <div
      role="progressbar"
      aria-label={`${budget.name}: spent of limit`}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(pct)}
      aria-valuetext={`${usd(budget.spent_usd)} of ${usd(budget.limit_usd)}`}
      className="relative h-2 w-full overflow-hidden rounded-full bg-slate-800"
    >
      <div className={`h-full rounded-full transition-[width] duration-500 ${STATE[budget.state].bar}`} style={{ width: `${pct}%` }} />
      {budget.warn_at.map((t) => (
        <span key={t} aria-hidden className="absolute inset-y-0 w-px bg-slate-950/80" style={{ left: `${t * 100}%` }} title={`Warns at ${Math.round(t * 100)}%`} />
      ))}
    </div>
  );
}

/** The select of what a budget does when spend passes its limit (create and edit forms). */
function OnExceedField({ label, error, value, onChange }: { label: string; error: string | undefined; value: OnExceed; onChange: (value: OnExceed) => void }) {
  return (
    <Field label={label} error={error}>
      {(props) => (
        <select {...props} className={CONTROL} value={value} onChange={(e) => onChange(e.target.value as OnExceed)}>
          {Object.entries(ON_EXCEED).map(([key, { option }]) => (
            <option key={key} value={key}>
              {option}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

function EditBudget({ budget, onDone }: { budget: BudgetView; onDone: () => void }) {
  const update = useUpdateBudget();
  const [limit, setLimit] = useState(String(num(budget.limit_usd)));
  const [onExceed, setOnExceed] = useState<OnExceed>(budget.on_exceed);
  const [limitError, setLimitError] = useState<string>();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!(num(limit) > 0) || limit.trim() === "") {
      setLimitError("Give a limit above $0.");
      return;
    }
    setLimitError(undefined);
    update.mutate({ id: budget.id, body: { limit_usd: limit.trim(), on_exceed: onExceed } }, { onSuccess: onDone });
  };
  const formError = formLevelError(update.error, ["limit_usd", "on_exceed"]);
  return (
    <form onSubmit={submit} noValidate className="mt-3 grid gap-3 rounded-lg bg-slate-950/50 p-3 ring-1 ring-slate-800 sm:grid-cols-[1fr_1fr_auto] sm:items-start">
      <Field label={`New limit for ${budget.name} (USD)`} error={limitError ?? serverFieldError(update.error, "limit_usd")}>
        {(props) => (
          <input {...props} className={CONTROL} inputMode="decimal" type="number" min="0" step="0.01" value={limit} onChange={(e) => setLimit(e.target.value)} autoFocus />
        )}
      </Field>
      <OnExceedField label={`Action for ${budget.name}`} error={serverFieldError(update.error, "on_exceed")} value={onExceed} onChange={setOnExceed} />
      <div className="flex gap-2 sm:mt-5">
        <Button type="submit" variant="primary" disabled={update.isPending}>
          {update.isPending ? "Saving…" : "Save"}
        </Button>
        <Button onClick={onDone}>Cancel</Button>
      </div>
      {formError && (
        <p role="alert" className="text-sm text-rose-300 sm:col-span-3">
          {formError}
        </p>
      )}
    </form>
  );
}

export function BudgetItem({ budget, scope }: { budget: BudgetView; scope: string }) {
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const remove = useDeleteBudget();
  const state = STATE[budget.state];
  const over = num(budget.spent_usd) - num(budget.limit_usd);
  return (
    <li data-testid="budget" data-state={budget.state} data-budget-id={budget.id} className="py-4 first:pt-0 last:pb-0">
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div className="min-w-0">
          <p className="flex flex-wrap items-center gap-2">
            <span className="truncate font-medium text-white">{budget.name}</span>
            <span className={`rounded-full px-2 py-0.5 text-xs font-medium ${state.badge}`}>{state.label}</span>
          </p>
          <p className="mt-0.5 text-xs text-slate-400">
            {scope} · {budget.period === "daily" ? "Daily" : "Monthly"} · when exceeded {ON_EXCEED[budget.on_exceed].effect}
          </p>
        </div>
        <div className="flex gap-1">
          <Button size="sm" variant="ghost" onClick={() => setEditing((v) => !v)} aria-expanded={editing} aria-label={`Edit budget ${budget.name}`}>
            Edit
          </Button>
          <Button size="sm" variant="ghost" className="text-rose-300 hover:text-rose-200" onClick={() => setConfirming(true)} aria-label={`Delete budget ${budget.name}`}>
            Delete
          </Button>
        </div>
      </div>
      <div className="mt-2 flex items-baseline justify-between gap-2 text-sm tabular-nums">
        <span className="text-slate-200">
          {usd(budget.spent_usd)} <span className="text-slate-500">of {usd(budget.limit_usd)}</span>
        </span>
        {over > 0 ? (
          <span className="text-rose-300">{usd(over)} over</span>
        ) : (
          <span className="text-slate-400">{usd(budget.remaining_usd)} left</span>
        )}
      </div>
      <div className="mt-1.5">
        <BudgetBar budget={budget} />
      </div>
      <p className="mt-1.5 text-xs text-slate-500">Period ends {shortDateTime(budget.period_end)}</p>
      {editing && <EditBudget budget={budget} onDone={() => setEditing(false)} />}
      {confirming && (
        <ConfirmDialog
          title={`Delete budget “${budget.name}”?`}
          confirmLabel="Delete budget"
          danger
          busy={remove.isPending}
          onCancel={() => {
            setConfirming(false);
            remove.reset();
          }}
          onConfirm={() => remove.mutate(budget.id, { onSuccess: () => setConfirming(false) })}
        >
          <p>
            Spend on {scope === "All deployments" ? "all deployments" : scope} will no longer be checked against its {usd(budget.limit_usd)} {budget.period} limit{budget.on_exceed === "warn" ? "" : `, and nothing will be ${budget.on_exceed === "stop" ? "stopped" : "terminated"} by it`}.
          </p>
          {remove.isError && (
            <p role="alert" className="mt-3 text-rose-300">
              {remove.error.message}
            </p>
          )}
        </ConfirmDialog>
      )}
    </li>
  );
}

const FORM_FIELDS = ["name", "deployment_id", "period", "limit_usd", "warn_at", "on_exceed"] as const;
type FormField = (typeof FORM_FIELDS)[number];

export function BudgetForm() {
  const create = useCreateBudget();
  const deployments = useDeploymentNames();
  const [name, setName] = useState("");
  const [scope, setScope] = useState("");
  const [period, setPeriod] = useState<"daily" | "monthly">("monthly");
  const [limit, setLimit] = useState("");
  const [warnAt, setWarnAt] = useState("50, 80, 90");
  const [onExceed, setOnExceed] = useState<OnExceed>("stop");
  const [local, setLocal] = useState<Partial<Record<FormField, string>>>({});
  const [created, setCreated] = useState<string>();

  const errorFor = (field: FormField) => local[field] ?? serverFieldError(create.error, field);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const problems: Partial<Record<FormField, string>> = {};
    const thresholds = parseThresholds(warnAt);
    if (!name.trim()) problems.name = "Give the budget a name.";
    if (!limit.trim() || !(num(limit) > 0)) problems.limit_usd = "Give a limit above $0.";
    if (thresholds === null) problems.warn_at = "Percentages between 1 and 99, such as 50, 80, 90.";
    setLocal(problems);
    setCreated(undefined);
    if (Object.keys(problems).length > 0 || thresholds === null) return;
    const body: BudgetCreate = {
      name: name.trim(),
      period,
      limit_usd: limit.trim(),
      warn_at: thresholds,
      on_exceed: onExceed,
      ...(scope ? { deployment_id: scope } : {}),
    };
    create.mutate(body, {
      onSuccess: (budget) => {
        setName("");
        setLimit("");
        setCreated(`Budget “${budget.name}” created.`);
      },
    });
  };

  const formError = formLevelError(create.error, FORM_FIELDS);
  return (
    <form onSubmit={submit} noValidate aria-label="New budget" className="grid gap-3 sm:grid-cols-2">
      <Field label="Budget name" error={errorFor("name")} className="sm:col-span-2">
        {(props) => <input {...props} className={CONTROL} value={name} maxLength={64} placeholder="e.g. Monthly cap" onChange={(e) => setName(e.target.value)} />}
      </Field>
      <Field label="Applies to" error={errorFor("deployment_id")} className="sm:col-span-2">
        {(props) => (
          <select {...props} className={CONTROL} value={scope} onChange={(e) => setScope(e.target.value)}>
            <option value="">All deployments</option>
            {deployments.list.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Period" error={errorFor("period")}>
        {(props) => (
          <select {...props} className={CONTROL} value={period} onChange={(e) => setPeriod(e.target.value as "daily" | "monthly")}>
            <option value="monthly">Monthly</option>
            <option value="daily">Daily</option>
          </select>
        )}
      </Field>
      <Field label="Limit (USD)" error={errorFor("limit_usd")}>
        {(props) => (
          <input {...props} className={CONTROL} type="number" inputMode="decimal" min="0" step="0.01" placeholder="100" value={limit} onChange={(e) => setLimit(e.target.value)} />
        )}
      </Field>
      <Field label="Warn at (% of limit)" error={errorFor("warn_at")} hint={errorFor("warn_at") ? undefined : "Comma separated; leave empty for none"}>
        {(props) => <input {...props} className={CONTROL} value={warnAt} onChange={(e) => setWarnAt(e.target.value)} />}
      </Field>
      <OnExceedField label="When exceeded" error={errorFor("on_exceed")} value={onExceed} onChange={setOnExceed} />
      {formError && (
        <p role="alert" className="text-sm text-rose-300 sm:col-span-2">
          {formError}
        </p>
      )}
      <div className="flex flex-wrap items-center gap-3 sm:col-span-2">
        <Button type="submit" variant="primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create budget"}
        </Button>
        <p role="status" className="text-sm text-emerald-300">
          {created}
        </p>
      </div>
    </form>
  );
}

export function Budgets() {
  const budgets = useBudgets();
  const deployments = useDeploymentNames();
  const data = budgets.data;
  const scopeOf = (budget: BudgetView) =>
    budget.deployment_id === null ? "All deployments" : (deployments.name(budget.deployment_id) ?? `Deployment ${budget.deployment_id.slice(0, 8)}`);
  return (
    <Section title="Budgets" description="Limits that warn, stop or terminate when spend passes them">
      <div data-testid="budgets" className="grid gap-6 lg:grid-cols-5">
        <div className="min-w-0 lg:col-span-3" aria-busy={budgets.isFetching}>
          {budgets.isError && !data ? (
            <ErrorState title="Could not load budgets" error={budgets.error} onRetry={() => void budgets.refetch()} />
          ) : !data ? (
            <div aria-hidden className="space-y-2">
              <Skeleton className="h-5 w-48" />
              <Skeleton className="h-3 w-64" />
              <Skeleton className="h-2 w-full" />
              <Skeleton className="h-3 w-40" />
            </div>
          ) : data.budgets.length === 0 ? (
            <EmptyState title="No budgets yet">Create one to be warned, or to have pods stopped, before spend runs away.</EmptyState>
          ) : (
            <ul className="divide-y divide-slate-800">
              {data.budgets.map((budget) => (
                <BudgetItem key={budget.id} budget={budget} scope={scopeOf(budget)} />
              ))}
            </ul>
          )}
        </div>
        <div className="min-w-0 border-t border-slate-800 pt-5 lg:col-span-2 lg:border-l lg:border-t-0 lg:pl-6 lg:pt-0">
          <h3 className="mb-3 text-sm font-semibold text-white">New budget</h3>
          <BudgetForm />
        </div>
      </div>
    </Section>
  );
}
