/**
 * Sign in: with a name and password, or by opening a link. `/login#link=...` (the one-time link
 * the server prints on its first start), `/login#token=<API token>` and `/login#invite=...`
 * carry their secret in the fragment, which no server and no Referer ever sees; the page takes
 * it out of the address bar and the history at once, then signs in with it.
 */
import { useEffect, useRef, useState, type FormEvent } from "react";
import * as api from "../api/generated";
import { Button, Card, errorMessage } from "../components/ui";

type FromLink = { kind: "link" | "token" | "invite"; secret: string };

/** The secret of `#link=`, `#token=` or `#invite=`, removed from the address and history. */
export function takeFragment(): FromLink | null {
  const hash = window.location.hash.replace(/^#/, "");
  const [kind, ...rest] = hash.split("=");
  const secret = rest.join("=");
  if (!secret || (kind !== "link" && kind !== "token" && kind !== "invite")) return null;
  window.history.replaceState(null, "", window.location.pathname === "/login" ? "/" : window.location.pathname);
  return { kind, secret: decodeURIComponent(secret) };
}

const input = "mt-1 w-full rounded-md border border-slate-700 bg-slate-900 px-3 py-2 text-sm text-white focus:border-sky-500 focus:outline-none";

export function LoginPage({ onSignedIn }: { onSignedIn: (me: api.Me) => void }) {
  const [fromLink] = useState(() => takeFragment());
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const tried = useRef(false);

  useEffect(() => {
    if (!fromLink || fromLink.kind === "invite" || tried.current) return;
    tried.current = true;
    setBusy(true);
    const body = fromLink.kind === "link" ? { link: fromLink.secret } : { token: fromLink.secret };
    api.signIn(body).then(onSignedIn, (e: unknown) => {
      setError(errorMessage(e));
      setBusy(false);
    });
  }, [fromLink, onSignedIn]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const me =
        fromLink?.kind === "invite"
          ? await api.acceptInvite({ invite: fromLink.secret, name, password })
          : await api.signIn({ name, password });
      onSignedIn(me);
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  }

  const inviting = fromLink?.kind === "invite";
  return (
    <main className="mx-auto mt-24 max-w-sm px-4">
      <Card className="p-6">
        <h1 className="text-lg font-semibold text-white">{inviting ? "Join ComfyHangar" : "Sign in to ComfyHangar"}</h1>
        {inviting && <p className="mt-1 text-sm text-slate-400">Pick a user name and a password (10 characters or more).</p>}
        <form className="mt-4 space-y-3" onSubmit={submit} aria-label={inviting ? "Accept invite" : "Sign in"}>
          <label className="block text-sm text-slate-300">
            Name
            <input className={input} name="name" autoComplete="username" value={name} onChange={(e) => setName(e.target.value)} required />
          </label>
          <label className="block text-sm text-slate-300">
            Password
            <input
              className={input}
              name="password"
              type="password"
              autoComplete={inviting ? "new-password" : "current-password"}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              required
            />
          </label>
          {error && (
            <p role="alert" className="text-sm text-rose-400">
              {error}
            </p>
          )}
          <Button type="submit" variant="primary" disabled={busy} className="w-full">
            {busy ? "Signing in…" : inviting ? "Create account" : "Sign in"}
          </Button>
        </form>
        {!inviting && (
          <p className="mt-4 text-xs text-slate-500">
            First time? Open the sign-in link that <code>comfyhangar serve</code> printed, or run <code>comfyhangar login-link</code>.
          </p>
        )}
      </Card>
    </main>
  );
}
