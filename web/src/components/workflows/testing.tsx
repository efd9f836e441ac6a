/** Test helpers for the workflow, run and gallery pages (not shipped: only tests import this). */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { vi } from "vitest";
import { Router } from "wouter";
import { memoryLocation } from "wouter/memory-location";

export type Handler = (init: RequestInit | undefined, url: string) => Response | Promise<Response>;

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": status >= 400 ? "application/problem+json" : "application/json" },
  });
}

/** A fake server: `"METHOD /path"` → handler; every call is recorded with its query and body. */
export function serve(routes: Record<string, Handler>) {
  const calls: { key: string; url: string; init?: RequestInit }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input);
      const key = `${init?.method ?? "GET"} ${url.split("?")[0]}`;
      calls.push({ key, url, init });
      const handler = routes[key];
      if (!handler) return json({ code: "not_found", detail: `no route ${key}` }, 404);
      return handler(init, url);
    }),
  );
  return calls;
}

/** Render a page at `path` with a fresh query client and an in-memory location. */
export function renderAt(ui: ReactElement, path: string) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } } });
  const location = memoryLocation({ path, record: true });
  const result = render(
    <QueryClientProvider client={client}>
      <Router hook={location.hook} searchHook={location.searchHook}>
        {ui}
      </Router>
    </QueryClientProvider>,
  );
  return { client, location, ...result };
}
