/** Labelled form controls whose error (from the client or the server) shows under them. */
import { useId, type ReactNode } from "react";
import { ApiError } from "../../api/http";

export const CONTROL =
  "block w-full rounded-md bg-slate-950 px-3 py-2 text-sm text-white ring-1 ring-inset ring-slate-700 placeholder:text-slate-600 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-400 aria-[invalid=true]:ring-rose-500";

export function Field({
  label,
  error,
  hint,
  children,
  className = "",
}: {
  label: string;
  error?: string;
  hint?: string;
  children: (props: { id: string; "aria-invalid": boolean; "aria-describedby"?: string }) => ReactNode;
  className?: string;
}) {
  const id = useId();
  const messageId = `${id}-message`;
  const message = error ?? hint;
  return (
    <div className={`min-w-0 ${className}`}>
      <label htmlFor={id} className="mb-1 block text-xs font-medium text-slate-300">
        {label}
      </label>
      {children({ id, "aria-invalid": Boolean(error), "aria-describedby": message ? messageId : undefined })}
      {message && (
        <p id={messageId} className={`mt-1 text-xs ${error ? "text-rose-300" : "text-slate-500"}`}>
          {message}
        </p>
      )}
    </div>
  );
}

/** The server's message for one field (`warn_at.1` counts as `warn_at`). */
export function serverFieldError(error: unknown, field: string): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  return (
    error.forField(field) ??
    error.fieldErrors.find((e) => e.field.startsWith(`${field}.`) || e.field.startsWith(`body.${field}.`))?.message
  );
}

/** The error to show above the form: the message, unless every part of it shows at a field. */
export function formLevelError(error: unknown, fields: readonly string[]): string | undefined {
  if (!error) return undefined;
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : "Something went wrong.";
  if (error.fieldErrors.length === 0) return error.message;
  const known = (name: string) =>
    fields.some((f) => name === f || name === `body.${f}` || name.startsWith(`${f}.`) || name.startsWith(`body.${f}.`));
  const others = error.fieldErrors.filter((e) => !known(e.field));
  return others.length ? others.map((e) => `${e.field}: ${e.message}`).join("; ") : undefined;
}
