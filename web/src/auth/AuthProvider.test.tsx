import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { mockApi, problem, renderWithClient } from "../components/costs/testing";
import { AuthProvider } from "./AuthProvider";

const ME = { id: "u1", name: "admin", role: "admin", scopes: ["admin", "deploy", "read", "run"], via: "session", csrf_token: "csrf-1" };

afterEach(() => {
  vi.unstubAllGlobals();
  window.history.replaceState(null, "", "/");
});

describe("AuthProvider and the sign-in page", () => {
  it("signs in with the one-time link of the fragment and takes it out of the address and history", async () => {
    window.history.replaceState(null, "", "/login#link=one-time-secret");
    const calls = mockApi({
      "GET /api/v1/auth/me": problem(401, "unauthenticated", "sign in first"),
      "POST /api/v1/auth/session": ME,
    });
    renderWithClient(<AuthProvider>signed-in content</AuthProvider>);
    expect(await screen.findByText("signed-in content")).toBeTruthy();
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ link: "one-time-secret" });
    expect(window.location.href).not.toContain("one-time-secret");
    expect(window.location.pathname).toBe("/");
  });

  it("sends the CSRF token with writes once signed in, and shows the sign-in page on a 401", async () => {
    const calls = mockApi({
      "GET /api/v1/auth/me": ME,
      "DELETE /api/v1/auth/session": { status: 204 },
    });
    const fetchMock = vi.mocked(fetch);
    renderWithClient(<AuthProvider>signed-in content</AuthProvider>);
    expect(await screen.findByText("signed-in content")).toBeTruthy();
    const { signOut } = await import("../api/generated");
    await signOut();
    const init = fetchMock.mock.calls.at(-1)?.[1];
    expect((init?.headers as Record<string, string>)["X-CSRF-Token"]).toBe("csrf-1");
    expect(calls.at(-1)?.method).toBe("DELETE");
  });

  it("signs in with a name and password and says why it failed", async () => {
    mockApi({
      "GET /api/v1/auth/me": problem(401, "unauthenticated", "sign in first"),
      "POST /api/v1/auth/session": problem(401, "unauthenticated", "wrong name or password"),
    });
    renderWithClient(<AuthProvider>signed-in content</AuthProvider>);
    await userEvent.type(await screen.findByLabelText("Name"), "ada");
    await userEvent.type(screen.getByLabelText("Password"), "not-the-password");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toContain("wrong name or password"));
    expect(screen.queryByText("signed-in content")).toBeNull();
    expect(window.localStorage.length + window.sessionStorage.length).toBe(0);
  });
});
