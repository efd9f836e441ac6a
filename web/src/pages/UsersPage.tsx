/** Admins: every user, invites by one-time link, roles, disable and delete. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import * as api from "../api/generated";
import { useMe } from "../auth/AuthProvider";
import { Button, Card, ConfirmDialog, ErrorState, Spinner, errorMessage } from "../components/ui";
import { dateTime } from "../lib/format";

const usersKey = ["users"] as const;
const ROLES: api.Role[] = ["admin", "member", "viewer"];

export function UsersPage() {
  const me = useMe();
  const client = useQueryClient();
  const users = useQuery({ queryKey: usersKey, queryFn: ({ signal }) => api.listUsers({ signal }) });
  const [inviteRole, setInviteRole] = useState<api.Role>("member");
  const [link, setLink] = useState<api.LinkView | null>(null);
  const [deleting, setDeleting] = useState<api.UserView | null>(null);
  const refresh = () => client.invalidateQueries({ queryKey: usersKey });
  const invite = useMutation({ mutationFn: () => api.inviteUser({ role: inviteRole }), onSuccess: setLink });
  const update = useMutation({
    mutationFn: ({ id, body }: { id: string; body: api.UserUpdate }) => api.updateUser(id, body),
    onSuccess: refresh,
  });
  const remove = useMutation({ mutationFn: (id: string) => api.deleteUser(id), onSuccess: refresh });
  const failure = invite.error ?? update.error ?? remove.error;
  return (
    <div className="space-y-6">
      <h1 className="text-xl font-semibold text-white">Users</h1>
      <Card className="flex flex-wrap items-end gap-3 p-4">
        <label className="text-sm text-slate-300">
          Invite a
          <select className="mt-1 block rounded-md border border-slate-700 bg-slate-900 px-2 py-1.5 text-sm text-white" value={inviteRole} onChange={(e) => setInviteRole(e.target.value as api.Role)}>
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <Button variant="primary" disabled={invite.isPending} onClick={() => invite.mutate()}>
          Make invite link
        </Button>
        {link && (
          <div className="w-full text-sm" data-testid="invite-link">
            <p className="text-emerald-300">Send this one-time link (valid until {dateTime(link.expires_at)}):</p>
            <code className="block break-all rounded bg-slate-900 p-2 text-white">{link.url}</code>
          </div>
        )}
      </Card>
      {failure && (
        <p role="alert" className="text-sm text-rose-400">
          {errorMessage(failure)}
        </p>
      )}
      {users.isPending ? (
        <Spinner label="Loading users" />
      ) : users.isError ? (
        <ErrorState error={users.error} onRetry={() => void users.refetch()} />
      ) : (
        <Card className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead className="text-slate-400">
              <tr>
                <th className="p-2">Name</th>
                <th className="p-2">Role</th>
                <th className="p-2">Since</th>
                <th className="p-2" />
              </tr>
            </thead>
            <tbody>
              {users.data.users.map((u) => (
                <tr key={u.id} className="border-t border-slate-800" data-testid="user-row">
                  <td className="p-2 text-white">
                    {u.name} {u.disabled && <span className="text-rose-400">(disabled)</span>}
                  </td>
                  <td className="p-2">
                    <select
                      aria-label={`Role of ${u.name}`}
                      className="rounded-md border border-slate-700 bg-slate-900 px-2 py-1 text-sm text-white"
                      value={u.role}
                      disabled={u.id === me?.id}
                      onChange={(e) => update.mutate({ id: u.id, body: { role: e.target.value as api.Role } })}
                    >
                      {ROLES.map((r) => (
                        <option key={r}>{r}</option>
                      ))}
                    </select>
                  </td>
                  <td className="p-2">{dateTime(u.created_at)}</td>
                  <td className="space-x-2 p-2 text-right">
                    {u.id !== me?.id && (
                      <>
                        <Button size="sm" onClick={() => update.mutate({ id: u.id, body: { disabled: !u.disabled } })}>
                          {u.disabled ? "Enable" : "Disable"}
                        </Button>
                        <Button size="sm" variant="danger" onClick={() => setDeleting(u)}>
                          Delete
                        </Button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete ${deleting.name}?`}
          confirmLabel="Delete"
          danger
          onConfirm={() => {
            remove.mutate(deleting.id);
            setDeleting(null);
          }}
          onCancel={() => setDeleting(null)}
        >
          Their tokens stop working; their deployments become yours.
        </ConfirmDialog>
      )}
    </div>
  );
}
