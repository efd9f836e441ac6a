/** Admins: the audit log, newest first: every change and every refusal, with who and from where. */
import { useQuery } from "@tanstack/react-query";
import * as api from "../api/generated";
import { Card, ErrorState, Spinner } from "../components/ui";
import { dateTime } from "../lib/format";

const OUTCOME = { ok: "text-emerald-300", refused: "text-amber-300", failed: "text-rose-400" } as const;

export function AuditPage() {
  const audit = useQuery({ queryKey: ["audit"], queryFn: ({ signal }) => api.listAudit({ limit: 500 }, { signal }) });
  return (
    <div className="space-y-6">
      <div className="flex items-center justify-between">
        <h1 className="text-xl font-semibold text-white">Audit log</h1>
        <a href="/api/v1/audit?format=csv&limit=10000" className="text-sm text-sky-400 hover:underline" download>
          Export CSV
        </a>
      </div>
      {audit.isPending ? (
        <Spinner label="Loading the audit log" />
      ) : audit.isError ? (
        <ErrorState error={audit.error} onRetry={() => void audit.refetch()} />
      ) : (
        <Card className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead className="text-slate-400">
              <tr>
                <th className="p-2">When</th>
                <th className="p-2">Who</th>
                <th className="p-2">From</th>
                <th className="p-2">What</th>
                <th className="p-2">Result</th>
              </tr>
            </thead>
            <tbody>
              {audit.data.entries.map((e) => (
                <tr key={e.id} className="border-t border-slate-800" data-testid="audit-row">
                  <td className="whitespace-nowrap p-2">{dateTime(e.at)}</td>
                  <td className="p-2 text-white">{e.actor_name ?? (e.subject ? `(sign-in as ${e.subject})` : "nobody")}</td>
                  <td className="p-2 text-slate-400">{e.address ?? "-"}</td>
                  <td className="p-2 font-mono text-xs">
                    {e.method} {e.path}
                  </td>
                  <td className={`p-2 ${OUTCOME[e.outcome]}`}>
                    {e.status} {e.outcome}
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
