/** Test helpers for the Costs components: a fresh query client and a fetch that answers by path. */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { vi } from "vitest";

export function renderWithClient(ui: ReactElement) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return { client, ...render(<QueryClientProvider client={client}>{ui}</QueryClientProvider>) };
}

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
}

type Answer = unknown | { status: number; body?: unknown };
type Handler = (call: Call) => Answer;

export function json(status: number, body?: unknown) {
  return { status, body };
}

export function problem(status: number, code: string, detail: string, errors: { field: string; message: string }[] = []) {
  return json(status, { type: "about:blank", title: "Error", status, code, detail, errors });
}

function isStatus(answer: Answer): answer is { status: number; body?: unknown } {
  return typeof answer === "object" && answer !== null && "status" in answer && typeof (answer as { status: unknown }).status === "number" && Object.keys(answer).every((k) => k === "status" || k === "body");
}

/** Stub `fetch`: `"GET /api/v1/budgets"` -> an answer (a plain object is a 200 JSON body). */
export function mockApi(routes: Record<string, Answer | Handler>) {
  const calls: Call[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), "http://localhost");
    const method = init?.method ?? "GET";
    const call: Call = { method, path: url.pathname, query: url.searchParams, body: init?.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(call);
    const route = routes[`${method} ${url.pathname}`];
    if (route === undefined) return new Response(JSON.stringify({ code: "not_found", detail: `no mock for ${method} ${url.pathname}` }), { status: 404 });
    const answer = typeof route === "function" ? (route as Handler)(call) : route;
    const { status, body } = isStatus(answer) ? answer : { status: 200, body: answer };
    if (status === 204) return new Response(null, { status });
    return new Response(JSON.stringify(body ?? {}), { status, headers: { "Content-Type": "application/json" } });
  });
  vi.stubGlobal("fetch", fetchMock);
  return calls;
}
