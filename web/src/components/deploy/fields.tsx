/** Labelled inputs whose server error is shown right under them and announced with the input. */
import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes } from "react";

export const inputClass =
  "block w-full rounded-md bg-slate-950 px-3 py-2 text-sm text-slate-100 ring-1 ring-inset ring-slate-700 placeholder:text-slate-600 focus:outline-none focus:ring-2 focus:ring-sky-400 aria-[invalid=true]:ring-rose-500 disabled:opacity-50";

export function errorId(field: string): string {
  return `field-error-${field}`;
}

/** The error message of one field (`data-testid="field-error-<field>"`), or nothing. */
export function FieldErrorText({ field, message }: { field: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <p id={errorId(field)} data-testid={errorId(field)} className="mt-1 text-xs text-rose-300">
      {message}
    </p>
  );
}

/** The aria attributes of an input whose field may have an error (and maybe a hint). */
export function describe(field: string, message: string | undefined, hintId?: string) {
  const ids = [message ? errorId(field) : null, hintId ?? null].filter(Boolean).join(" ");
  return { "aria-invalid": message ? (true as const) : undefined, "aria-describedby": ids || undefined };
}

interface FieldProps {
  label: ReactNode;
  field: string;
  error?: string;
  hint?: ReactNode;
  className?: string;
}

/** The label above a control, its hint and its server error below: the frame every field shares. */
function FieldFrame({ id, label, field, error, hint, className, children }: FieldProps & { id: string; children: ReactNode }) {
  return (
    <div className={className}>
      <label htmlFor={id} className="mb-1 block text-sm font-medium text-slate-300">
        {label}
      </label>
      {children}
      {hint && (
        <p id={`${id}-hint`} className="mt-1 text-xs text-slate-500">
          {hint}
        </p>
      )}
      <FieldErrorText field={field} message={error} />
    </div>
  );
}

/** The id, look and aria attributes of the control inside a FieldFrame. */
function controlProps(id: string, field: string, error: string | undefined, hint: ReactNode) {
  return { id, className: inputClass, ...describe(field, error, hint ? `${id}-hint` : undefined) };
}

export function TextField({ label, field, error, hint, className = "", ...input }: FieldProps & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return (
    <FieldFrame id={id} label={label} field={field} error={error} hint={hint} className={className}>
      <input {...controlProps(id, field, error, hint)} {...input} />
    </FieldFrame>
  );
}

export function SelectField({
  label,
  field,
  error,
  hint,
  className = "",
  children,
  ...select
}: FieldProps & SelectHTMLAttributes<HTMLSelectElement>) {
  const id = useId();
  return (
    <FieldFrame id={id} label={label} field={field} error={error} hint={hint} className={className}>
      <select {...controlProps(id, field, error, hint)} {...select}>
        {children}
      </select>
    </FieldFrame>
  );
}

/** A titled section of the form. */
export function Section({ title, description, children, id }: { title: string; description?: ReactNode; children: ReactNode; id?: string }) {
  const headingId = useId();
  return (
    <section aria-labelledby={headingId} id={id} className="rounded-xl bg-slate-900 p-4 ring-1 ring-slate-800 sm:p-5">
      <h2 id={headingId} className="text-base font-semibold text-white">
        {title}
      </h2>
      {description && <p className="mt-0.5 text-sm text-slate-400">{description}</p>}
      <div className="mt-4">{children}</div>
    </section>
  );
}
