import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { mockApi, renderWithClient, type Call } from "../components/costs/testing";
import type { TokenView } from "../api/generated";
import { TokensPage } from "./TokensPage";

const TOKEN: TokenView = { id: "t1", name: "ci", user_id: "u1", hint: "hgr_AbCd…", scopes: ["read"], created_at: "2026-12-04T10:00:00Z", expires_at: null, last_used_at: null, revoked_at: null };

afterEach(() => vi.unstubAllGlobals());

describe("TokensPage", () => {
  it("shows a new token once, lists tokens by their hint only, and revokes", async () => {
    let listed: TokenView[] = [TOKEN];
    const calls = mockApi({
      "GET /api/v1/tokens": () => ({ tokens: listed }),
      "POST /api/v1/tokens": (call: Call) => {
        const made = { ...TOKEN, id: "t2", name: (call.body as { name: string }).name, hint: "hgr_Zz9a…" };
        listed = [made, ...listed];
        return { status: 201, body: { ...made, token: "hgr_Zz9aSECRET" } };
      },
      "DELETE /api/v1/tokens/t1": () => {
        listed = listed.map((t) => (t.id === "t1" ? { ...t, revoked_at: "2026-12-04T11:00:00Z" } : t));
        return { ...TOKEN, revoked_at: "2026-12-04T11:00:00Z" };
      },
    });
    renderWithClient(<TokensPage />);
    expect(await screen.findByText("hgr_AbCd…")).toBeTruthy();
    await userEvent.type(screen.getByLabelText("Name"), "laptop");
    await userEvent.click(screen.getByRole("button", { name: "Make token" }));
    expect((await screen.findByTestId("new-token")).textContent).toContain("hgr_Zz9aSECRET");
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ name: "laptop", scopes: ["read"], expires_in_days: 90 });
    await userEvent.click(screen.getByRole("button", { name: "Done" }));
    expect(screen.queryByText(/hgr_Zz9aSECRET/)).toBeNull();
    await userEvent.click(screen.getAllByRole("button", { name: "Revoke" }).at(-1)!);
    await waitFor(() => expect(screen.getByText("revoked")).toBeTruthy());
  });

  it("sets a first password without a current one", async () => {
    const calls = mockApi({ "GET /api/v1/tokens": { tokens: [] }, "PUT /api/v1/auth/password": { status: 204 } });
    renderWithClient(<TokensPage />);
    await userEvent.type(screen.getByLabelText(/New password/), "a-long-password");
    await userEvent.click(screen.getByRole("button", { name: "Set password" }));
    expect(await screen.findByText("Password set.")).toBeTruthy();
    expect(calls.find((c) => c.method === "PUT")?.body).toEqual({ current: null, new: "a-long-password" });
  });
});
