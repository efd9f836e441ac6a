/**
 * The one place the dashboard talks HTTP to the server. Every error response of the API is an
 * RFC 9457 problem with a stable `code`; it becomes an `ApiError` carrying that code, the
 * message for people and, for `invalid_input`, one message per bad field.
 */

export interface RequestOptions {
  signal?: AbortSignal;
}

interface RequestSpec extends RequestOptions {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  expect: "json" | "text" | "none";
  query?: Record<string, unknown>;
  body?: unknown;
  /** A multipart body (file uploads); the browser sets its Content-Type with the boundary. */
  form?: FormData;
}

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fieldErrors: FieldError[];
  /** The problem's other members (such as `problems` of a 422 `not_runnable_on_target`). */
  readonly details: Record<string, unknown>;

  constructor(status: number, code: string, message: string, fieldErrors: FieldError[] = [], details: Record<string, unknown> = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.fieldErrors = fieldErrors;
    this.details = details;
  }

  /** The message for one field (dotted path such as `gpu.count`), if the server named it. */
  forField(field: string): string | undefined {
    return this.fieldErrors.find((e) => e.field === field || e.field === `body.${field}`)?.message;
  }
}

/** Query string from an object: `undefined` and `null` are left out, arrays repeat the key. */
export function queryString(query: Record<string, unknown> | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

// The session's CSRF token (from `POST /auth/session` or `GET /auth/me`), sent with every write:
// the session cookie alone never changes anything. Kept in memory only, never in storage.
let csrfToken: string | null = null;
let onUnauthenticated: (() => void) | null = null;

/** Set (or clear) the CSRF token that writes carry as `X-CSRF-Token`. */
export function setCsrfToken(token: string | null | undefined) {
  csrfToken = token ?? null;
}

/** Called when a request answers 401 (the sign-in ended): the app shows the sign-in page. */
export function setUnauthenticatedHandler(handler: (() => void) | null) {
  onUnauthenticated = handler;
}

export async function request<T>(spec: RequestSpec): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (spec.method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let body: string | FormData | undefined;
  if (spec.form !== undefined) {
    body = spec.form;
  } else if (spec.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(spec.body);
  }
  let response: Response;
  try {
    response = await fetch(spec.path + queryString(spec.query), {
      method: spec.method,
      headers,
      body,
      signal: spec.signal,
      credentials: "same-origin",
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "unreachable", "The ComfyHangar server cannot be reached.");
  }
  if (response.status === 401 && onUnauthenticated && !spec.path.endsWith("/auth/session")) onUnauthenticated();
  if (!response.ok) throw await problemOf(response);
  if (spec.expect === "none" || response.status === 204) return undefined as T;
  if (spec.expect === "text") return (await response.text()) as T;
  return (await response.json()) as T;
}

async function problemOf(response: Response): Promise<ApiError> {
  try {
    const problem = (await response.json()) as {
      code?: string;
      detail?: string;
      title?: string;
      errors?: FieldError[] | null;
    } & Record<string, unknown>;
    return new ApiError(
      response.status,
      problem.code ?? "http_error",
      problem.detail ?? problem.title ?? `HTTP ${response.status}`,
      problem.errors ?? [],
      problem,
    );
  } catch {
    return new ApiError(response.status, "http_error", `HTTP ${response.status} ${response.statusText}`);
  }
}
