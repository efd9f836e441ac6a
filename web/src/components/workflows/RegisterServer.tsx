/**
 * Register a ComfyUI server (your own GPU, a pod made elsewhere) as a run target: name, URL and
 * an optional auth header. The header's value goes to the server once and is never shown again.
 */
import { useState } from "react";
import type { ServerView } from "../../api/generated";
import { ApiError } from "../../api/http";
import { useRegisterServer } from "../../api/queries";
import { Button, Modal, errorMessage } from "../ui";

const INPUT = "mt-1 w-full rounded-md bg-slate-950 px-3 py-2 text-sm text-white ring-1 ring-slate-700 focus:outline-none focus:ring-2 focus:ring-sky-500 aria-[invalid=true]:ring-rose-500";

export function RegisterServer({ onClose, onRegistered }: { onClose: () => void; onRegistered: (server: ServerView) => void }) {
  const [name, setName] = useState("");
  const [url, setUrl] = useState("");
  const [headerName, setHeaderName] = useState("");
  const [headerValue, setHeaderValue] = useState("");
  const register = useRegisterServer();
  const apiError = register.error instanceof ApiError ? register.error : undefined;
  const at = (field: string) => apiError?.forField(field);
  const shownAtFields = ["name", "url", "auth_header_name", "auth_header_value"].some((f) => at(f));

  const field = (label: string, field: string, value: string, set: (v: string) => void, extra: Record<string, unknown> = {}) => (
    <div>
      <label className="block text-sm text-slate-300">
        {label}
        <input className={INPUT} value={value} onChange={(e) => set(e.target.value)} aria-invalid={at(field) ? true : undefined} {...extra} />
      </label>
      {at(field) && <p className="mt-1 text-xs text-rose-300">{at(field)}</p>}
    </div>
  );

  return (
    <Modal title="Register a ComfyUI server" onClose={onClose}>
      <form
        className="space-y-3"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          register.mutate(
            {
              name: name.trim(),
              url: url.trim(),
              ...(headerName.trim() ? { auth_header_name: headerName.trim(), auth_header_value: headerValue } : {}),
            },
            { onSuccess: onRegistered },
          );
        }}
      >
        <p className="text-sm text-slate-400">A ComfyUI that ComfyHangar does not manage: runs can target it like a pod. Nothing is billed for it here.</p>
        {field("Server name", "name", name, setName, { "data-autofocus": true })}
        {field("URL", "url", url, setUrl, { placeholder: "http://127.0.0.1:8188", inputMode: "url" })}
        <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
          {field("Auth header (optional)", "auth_header_name", headerName, setHeaderName, { placeholder: "Authorization" })}
          {field("Its value", "auth_header_value", headerValue, setHeaderValue, { type: "password", autoComplete: "off", disabled: !headerName.trim() })}
        </div>
        {register.error && !shownAtFields && (
          <p role="alert" className="rounded-md bg-rose-950/60 p-3 text-sm text-rose-100 ring-1 ring-rose-900">
            {errorMessage(register.error)}
          </p>
        )}
        <div className="flex justify-end gap-2 pt-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={register.isPending || !name.trim() || !url.trim()}>
            {register.isPending ? "Registering…" : "Register"}
          </Button>
        </div>
      </form>
    </Modal>
  );
}
