/**
 * Who is signed in. The app renders only once `GET /auth/me` answers: with a user, the pages;
 * with 401, the sign-in page. The CSRF token it returns goes to `http.ts` (memory only).
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, type ReactNode } from "react";
import * as api from "../api/generated";
import { ApiError, setCsrfToken, setUnauthenticatedHandler } from "../api/http";
import { Spinner } from "../components/ui";
import { LoginPage } from "../pages/LoginPage";

export const meKey = ["auth", "me"] as const;

interface Auth {
  me: api.Me;
  signOut: () => Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}

/** The signed-in user, or null outside a sign-in (tests render pages without one). */
export function useMe(): api.Me | null {
  return useContext(AuthContext)?.me ?? null;
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const me = useQuery({
    queryKey: meKey,
    queryFn: async ({ signal }) => {
      try {
        return await api.whoAmI({ signal });
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: Infinity,
    retry: false,
  });
  useEffect(() => {
    setCsrfToken(me.data?.csrf_token);
  }, [me.data]);
  useEffect(() => {
    setUnauthenticatedHandler(() => client.setQueryData(meKey, null));
    return () => setUnauthenticatedHandler(null);
  }, [client]);
  const signedIn = useCallback(
    (user: api.Me) => {
      setCsrfToken(user.csrf_token);
      client.setQueryData(meKey, user);
    },
    [client],
  );
  const signOut = useCallback(async () => {
    try {
      await api.signOut();
    } finally {
      setCsrfToken(null);
      client.setQueryData(meKey, null);
      client.removeQueries({ predicate: (query) => query.queryKey[0] !== meKey[0] });
    }
  }, [client]);
  const value = useMemo(() => (me.data ? { me: me.data, signOut } : null), [me.data, signOut]);
  if (me.isPending) return <Spinner label="Checking sign-in" />;
  if (!value) return <LoginPage onSignedIn={signedIn} />;
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
