/** Small building blocks shared by every page: buttons, cards, badges, states, dialogs. */
import { useEffect, useId, useRef, type ButtonHTMLAttributes, type ReactNode } from "react";
import type { DeploymentState } from "../api/generated";
import { ApiError } from "../api/http";

type Variant = "primary" | "secondary" | "danger" | "ghost";
const VARIANTS: Record<Variant, string> = {
  primary: "bg-sky-500 text-slate-950 hover:bg-sky-400 disabled:bg-sky-900 disabled:text-slate-400",
  secondary: "bg-slate-800 text-slate-100 hover:bg-slate-700 ring-1 ring-inset ring-slate-700 disabled:text-slate-500",
  danger: "bg-rose-600 text-white hover:bg-rose-500 disabled:bg-rose-950 disabled:text-slate-400",
  ghost: "text-slate-300 hover:bg-slate-800 hover:text-white disabled:text-slate-600",
};

export function Button({
  variant = "secondary",
  size = "md",
  className = "",
  ...props
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant; size?: "sm" | "md" }) {
  const sizing = size === "sm" ? "px-2.5 py-1 text-xs" : "px-3.5 py-2 text-sm";
  return (
    <button
      type="button"
      className={`inline-flex items-center justify-center gap-1.5 rounded-md font-medium transition-colors focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-400 disabled:cursor-not-allowed ${sizing} ${VARIANTS[variant]} ${className}`}
      {...props}
    />
  );
}

export function Card({ children, className = "", ...rest }: { children: ReactNode; className?: string } & React.HTMLAttributes<HTMLElement>) {
  return (
    <section className={`rounded-xl bg-slate-900 ring-1 ring-slate-800 ${className}`} {...rest}>
      {children}
    </section>
  );
}

const STATE_STYLE: Record<DeploymentState, string> = {
  pending: "bg-slate-700/60 text-slate-200",
  creating: "bg-sky-900/70 text-sky-200",
  provisioning: "bg-sky-900/70 text-sky-200",
  starting: "bg-sky-900/70 text-sky-200",
  installing: "bg-indigo-900/70 text-indigo-200",
  ready: "bg-emerald-900/70 text-emerald-200",
  stopping: "bg-amber-900/70 text-amber-200",
  stopped: "bg-slate-700/60 text-slate-300",
  restarting: "bg-amber-900/70 text-amber-200",
  terminating: "bg-rose-950 text-rose-200",
  terminated: "bg-slate-800 text-slate-400",
  failed: "bg-rose-900/80 text-rose-100",
};
const BUSY: ReadonlySet<DeploymentState> = new Set([
  "pending", "creating", "provisioning", "starting", "installing", "stopping", "restarting", "terminating",
]);

/** The deployment's state as a coloured badge; a pulsing dot while it is changing. */
export function StateBadge({ state }: { state: DeploymentState }) {
  return (
    <span
      data-testid="state-badge"
      data-state={state}
      className={`inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium ${STATE_STYLE[state]}`}
    >
      <span className={`h-1.5 w-1.5 rounded-full bg-current ${BUSY.has(state) ? "animate-pulse" : ""}`} aria-hidden />
      {state}
    </span>
  );
}

export function ProgressBar({ value, label }: { value: number | null; label: string }) {
  const pct = value === null ? null : Math.max(0, Math.min(100, value * 100));
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={pct === null ? undefined : Math.round(pct)}
      className="h-1.5 w-full overflow-hidden rounded-full bg-slate-800"
    >
      <div
        className={`h-full rounded-full bg-sky-400 transition-[width] duration-500 ${pct === null ? "w-1/3 animate-pulse" : ""}`}
        style={pct === null ? undefined : { width: `${pct}%` }}
      />
    </div>
  );
}

export function Spinner({ label = "Loading" }: { label?: string }) {
  return (
    <span role="status" className="inline-flex items-center gap-2 text-sm text-slate-400">
      <span className="h-4 w-4 animate-spin rounded-full border-2 border-slate-600 border-t-sky-400" aria-hidden />
      {label}
    </span>
  );
}

/** A grey block of fixed size standing in for content that is loading (no layout jump later). */
export function Skeleton({ className = "h-4 w-24" }: { className?: string }) {
  return <span aria-hidden className={`block animate-pulse rounded bg-slate-800 ${className}`} />;
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}

export function ErrorState({ error, onRetry, title = "Could not load this" }: { error: unknown; onRetry?: () => void; title?: string }) {
  return (
    <div role="alert" className="rounded-lg bg-rose-950/60 p-4 text-sm text-rose-100 ring-1 ring-rose-900">
      <p className="font-medium">{title}</p>
      <p className="mt-1 text-rose-200/80">{errorMessage(error)}</p>
      {onRetry && (
        <Button className="mt-3" size="sm" onClick={onRetry}>
          Try again
        </Button>
      )}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="rounded-xl border border-dashed border-slate-700 p-8 text-center">
      <p className="font-medium text-slate-200">{title}</p>
      {children && <div className="mt-2 text-sm text-slate-400">{children}</div>}
    </div>
  );
}

/** A modal dialog: focus moves into it, Escape or the backdrop closes it, focus returns after. */
export function Modal({ title, onClose, children, wide = false }: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const titleId = useId();
  const panel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    const first = panel.current?.querySelector<HTMLElement>("[data-autofocus], button, input, select, textarea");
    first?.focus();
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") onClose();
    };
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("keydown", onKey);
      previous?.focus?.();
    };
  }, [onClose]);
  return (
    <div className="fixed inset-0 z-50 flex items-end justify-center bg-black/60 p-0 sm:items-center sm:p-4" onMouseDown={onClose}>
      <div
        ref={panel}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        onMouseDown={(event) => event.stopPropagation()}
        className={`max-h-[92vh] w-full overflow-y-auto rounded-t-xl bg-slate-900 p-5 shadow-2xl ring-1 ring-slate-700 sm:rounded-xl ${wide ? "sm:max-w-3xl" : "sm:max-w-md"}`}
      >
        <h2 id={titleId} className="text-lg font-semibold text-white">
          {title}
        </h2>
        <div className="mt-3">{children}</div>
      </div>
    </div>
  );
}

export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  danger = false,
  busy = false,
  onConfirm,
  onCancel,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <Modal title={title} onClose={onCancel}>
      <div className="text-sm text-slate-300">{children}</div>
      <div className="mt-5 flex justify-end gap-2">
        <Button onClick={onCancel} data-autofocus>
          Cancel
        </Button>
        <Button variant={danger ? "danger" : "primary"} onClick={onConfirm} disabled={busy}>
          {busy ? "Working…" : confirmLabel}
        </Button>
      </div>
    </Modal>
  );
}

/** A label/value pair in a stat grid. The value keeps its height while loading. */
export function Stat({ label, value, hint, testId }: { label: string; value: ReactNode; hint?: ReactNode; testId?: string }) {
  return (
    <div className="min-w-0">
      <p className="text-xs uppercase tracking-wide text-slate-500">{label}</p>
      <p className="mt-1 truncate text-xl font-semibold tabular-nums text-white" data-testid={testId}>
        {value}
      </p>
      {hint && <p className="mt-0.5 truncate text-xs text-slate-500">{hint}</p>}
    </div>
  );
}
