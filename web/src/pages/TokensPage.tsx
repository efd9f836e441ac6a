/** API tokens of the signed-in user: make one (shown once), see when each was last used, revoke. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import * as api from "../api/generated";
import { useMe } from "../auth/AuthProvider";
import { Button, Card, EmptyState, ErrorState, Spinner, errorMessage } from "../components/ui";
import { dateTime } from "../lib/format";

const tokensKey = ["tokens"] as const;
const ALL_SCOPES: api.Scope[] = ["read", "deploy", "run", "admin"];

export function TokensPage() {
  const me = useMe();
  const client = useQueryClient();
  const tokens = useQuery({ queryKey: tokensKey, queryFn: ({ signal }) => api.listTokens(undefined, { signal }) });
  const [created, setCreated] = useState<api.TokenCreated | null>(null);
  const revoke = useMutation({
    mutationFn: (id: string) => api.revokeToken(id),
    onSuccess: () => client.invalidateQueries({ queryKey: tokensKey }),
  });
  const mine = ALL_SCOPES.filter((s) => me?.scopes.includes(s));
  return (
    <div className="space-y-6">
      <h1 className="text-xl font-semibold text-white">API tokens</h1>
      <p className="text-sm text-slate-400">
        For the CLI (<code>comfyhangar login</code>), scripts and CI: send one as <code>Authorization: Bearer …</code>. A token is shown once, when it is made.
      </p>
      {created && (
        <Card className="border-emerald-700 p-4" role="status" data-testid="new-token">
          <p className="text-sm text-emerald-300">Copy this token now: it will not be shown again.</p>
          <code className="mt-2 block break-all rounded bg-slate-900 p-2 text-sm text-white">{created.token}</code>
          <Button size="sm" className="mt-2" onClick={() => setCreated(null)}>
            Done
          </Button>
        </Card>
      )}
      <PasswordCard />
      <NewToken scopes={mine} onCreated={(t) => { setCreated(t); void client.invalidateQueries({ queryKey: tokensKey }); }} />
      {tokens.isPending ? (
        <Spinner label="Loading tokens" />
      ) : tokens.isError ? (
        <ErrorState error={tokens.error} onRetry={() => void tokens.refetch()} />
      ) : tokens.data.tokens.length === 0 ? (
        <EmptyState title="No tokens yet" />
      ) : (
        <Card className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead className="text-slate-400">
              <tr>
                <th className="p-2">Name</th>
                <th className="p-2">Token</th>
                <th className="p-2">Scopes</th>
                <th className="p-2">Expires</th>
                <th className="p-2">Last used</th>
                <th className="p-2" />
              </tr>
            </thead>
            <tbody>
              {tokens.data.tokens.map((t) => (
                <tr key={t.id} className="border-t border-slate-800" data-testid="token-row">
                  <td className="p-2 text-white">{t.name}</td>
                  <td className="p-2 font-mono text-slate-400">{t.hint}</td>
                  <td className="p-2">{t.scopes.join(", ")}</td>
                  <td className="p-2">{t.expires_at ? dateTime(t.expires_at) : "never"}</td>
                  <td className="p-2">{t.last_used_at ? dateTime(t.last_used_at) : "never"}</td>
                  <td className="p-2 text-right">
                    {t.revoked_at ? (
                      <span className="text-slate-500">revoked</span>
                    ) : (
                      <Button size="sm" variant="danger" disabled={revoke.isPending} onClick={() => revoke.mutate(t.id)}>
                        Revoke
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      )}
    </div>
  );
}

function NewToken({ scopes, onCreated }: { scopes: api.Scope[]; onCreated: (t: api.TokenCreated) => void }) {
  const [name, setName] = useState("");
  const [chosen, setChosen] = useState<api.Scope[]>(["read"]);
  const [days, setDays] = useState("90");
  const make = useMutation({
    mutationFn: () => api.createToken({ name, scopes: chosen, expires_in_days: days === "" ? null : Number(days) }),
    onSuccess: (t) => {
      setName("");
      onCreated(t);
    },
  });
  function submit(event: FormEvent) {
    event.preventDefault();
    make.mutate();
  }
  return (
    <Card className="p-4">
      <form className="flex flex-wrap items-end gap-3" onSubmit={submit} aria-label="New token">
        <label className="text-sm text-slate-300">
          Name
          <input className="mt-1 block rounded-md border border-slate-700 bg-slate-900 px-2 py-1.5 text-sm text-white" value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <fieldset className="text-sm text-slate-300">
          <legend>Scopes</legend>
          <div className="mt-1 flex gap-3">
            {scopes.map((s) => (
              <label key={s} className="flex items-center gap-1">
                <input
                  type="checkbox"
                  checked={chosen.includes(s)}
                  onChange={(e) => setChosen(e.target.checked ? [...chosen, s] : chosen.filter((c) => c !== s))}
                />
                {s}
              </label>
            ))}
          </div>
        </fieldset>
        <label className="text-sm text-slate-300">
          Expires in (days; empty: never)
          <input className="mt-1 block w-28 rounded-md border border-slate-700 bg-slate-900 px-2 py-1.5 text-sm text-white" value={days} onChange={(e) => setDays(e.target.value)} inputMode="numeric" />
        </label>
        <Button type="submit" variant="primary" disabled={make.isPending || chosen.length === 0}>
          Make token
        </Button>
        {make.isError && (
          <p role="alert" className="w-full text-sm text-rose-400">
            {errorMessage(make.error)}
          </p>
        )}
      </form>
    </Card>
  );
}

/** Set or change one's password (the first-start admin has none: it signed in by link). */
function PasswordCard() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const change = useMutation({
    mutationFn: () => api.changePassword({ current: current || null, new: next }),
    onSuccess: () => {
      setCurrent("");
      setNext("");
    },
  });
  const field = "mt-1 block rounded-md border border-slate-700 bg-slate-900 px-2 py-1.5 text-sm text-white";
  return (
    <Card className="p-4">
      <form
        className="flex flex-wrap items-end gap-3"
        aria-label="Password"
        onSubmit={(event) => {
          event.preventDefault();
          change.mutate();
        }}
      >
        <label className="text-sm text-slate-300">
          Current password (empty if you have none yet)
          <input className={field} type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
        </label>
        <label className="text-sm text-slate-300">
          New password (10+ characters)
          <input className={field} type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} required />
        </label>
        <Button type="submit" disabled={change.isPending}>
          Set password
        </Button>
        {change.isSuccess && <p className="w-full text-sm text-emerald-300">Password set.</p>}
        {change.isError && (
          <p role="alert" className="w-full text-sm text-rose-400">
            {errorMessage(change.error)}
          </p>
        )}
      </form>
    </Card>
  );
}
