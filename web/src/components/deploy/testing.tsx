/** Test helpers for the Deploy page: API fixtures and a fetch stub that records what was sent. */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { Router } from "wouter";
import { memoryLocation } from "wouter/memory-location";
import { vi } from "vitest";
import type { GpuOffer, PresetList, PresetView } from "../../api/generated";

export function gpu(over: Partial<GpuOffer> & { id: string }): GpuOffer {
  return {
    name: over.id.replace(/^NVIDIA (GeForce )?/, ""),
    manufacturer: "NVIDIA",
    vram_gb: 24,
    tier: "mid",
    price_per_hour: { secure: "0.69", community: "0.34" },
    max_count: { secure: 8, community: 4 },
    availability: "HIGH",
    data_centers: [
      { id: "EU-RO-1", availability: "HIGH" },
      { id: "US-TX-3", availability: "NONE" },
    ],
    ...over,
  };
}

export const GPUS: GpuOffer[] = [
  gpu({ id: "NVIDIA GeForce RTX 4090", vram_gb: 24, tier: "high", price_per_hour: { secure: "0.69", community: "0.34" } }),
  gpu({ id: "NVIDIA A100 80GB PCIe", vram_gb: 80, tier: "premium", price_per_hour: { secure: "1.64", community: "1.19" }, max_count: { secure: 2, community: 1 } }),
  gpu({ id: "NVIDIA RTX A4000", vram_gb: 16, tier: "budget", price_per_hour: { secure: "0.17", community: "0.09" }, availability: "NONE", data_centers: [] }),
  gpu({ id: "NVIDIA L40S", vram_gb: 48, tier: "mid", price_per_hour: { secure: null, community: "0.79" }, max_count: { secure: 0, community: 8 } }),
];

export const PRESETS: PresetView[] = [
  {
    id: "sdxl-base",
    title: "SDXL base 1.0",
    description: "Stable Diffusion XL base 1.0 with the SDXL VAE.",
    models: [
      { name: "sd_xl_base_1.0.safetensors", folder: "checkpoints", source: { type: "huggingface" }, size: 6_938_078_334, gated: false },
      { name: "sdxl_vae.safetensors", folder: "vae", source: { type: "huggingface" }, size: 334_641_164, gated: false },
    ],
    nodes: [],
    total_bytes: 7_272_719_498,
    needs_hf_token: false,
  },
  {
    id: "flux-dev",
    title: "FLUX.1-dev",
    description: "FLUX.1-dev (gated) with its text encoders and VAE.",
    models: [{ name: "flux1-dev.safetensors", folder: "diffusion_models", source: { type: "huggingface" }, size: 23_802_932_552, gated: true }],
    nodes: [],
    total_bytes: 23_802_932_552,
    needs_hf_token: true,
  },
];

/** GET /presets' model_folders (a few of the agent's list). */
export const MODEL_FOLDERS = ["checkpoints", "diffusion_models", "vae", "loras", "controlnet"];

export const ESTIMATE = {
  gpu_price_per_hour: "0.69",
  gpu_per_hour: "0.690000",
  storage_per_hour: "0.020548",
  per_hour: "0.710548",
  per_day: "17.053151",
  per_month: "511.594521",
  stopped_per_hour: "0.027397",
  hours: "1",
  for_hours: "0.710548",
};

const TITLES: Record<number, string> = { 409: "Conflict", 422: "Unprocessable Entity", 503: "Service Unavailable" };

/** A problem+json answer as the server sends it (with `errors` when it names fields). */
export function problem(status: number, code: string, detail: string, errors?: { field: string; message: string }[]) {
  return { status, body: { title: TITLES[status] ?? "Error", status, code, detail, ...(errors ? { errors } : {}) } };
}

export interface Call {
  method: string;
  path: string;
  body: unknown;
}

type Reply = { status: number; body: unknown } | Promise<{ status: number; body: unknown }>;

/** Stubs fetch: the catalog, presets and estimate answer; `create` answers POST /deployments. */
export function stubApi({
  create,
  estimate = () => ({ status: 200, body: ESTIMATE }),
  gpus = () => ({ status: 200, body: { cloud: "SECURE", gpus: GPUS } }),
  presets = () => ({ status: 200, body: { presets: PRESETS, model_folders: MODEL_FOLDERS } satisfies PresetList }),
}: {
  create?: (body: unknown) => Reply;
  estimate?: (body: unknown) => Reply;
  gpus?: (cloud: string | null) => Reply;
  presets?: () => Reply;
} = {}) {
  const calls: Call[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), "http://localhost");
    const method = init?.method ?? "GET";
    const body = typeof init?.body === "string" ? JSON.parse(init.body) : undefined;
    calls.push({ method, path: url.pathname + url.search, body });
    let reply: { status: number; body: unknown };
    if (url.pathname === "/api/v1/gpus") reply = await gpus(url.searchParams.get("cloud"));
    else if (url.pathname === "/api/v1/presets") reply = await presets();
    else if (url.pathname === "/api/v1/estimate") reply = await estimate(body);
    else if (url.pathname === "/api/v1/deployments" && method === "POST")
      reply = await (create ?? (() => ({ status: 201, body: { id: "dep-1" } })))(body);
    else reply = { status: 404, body: { code: "not_found", detail: "no such path", title: "Not Found", status: 404 } };
    return new Response(JSON.stringify(reply.body), {
      status: reply.status,
      headers: { "Content-Type": reply.status >= 400 ? "application/problem+json" : "application/json" },
    });
  });
  vi.stubGlobal("fetch", fetchMock);
  return { calls, posts: () => calls.filter((c) => c.method === "POST" && c.path === "/api/v1/deployments") };
}

export function renderWithApp(ui: ReactNode, path = "/deploy") {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  const location = memoryLocation({ path, record: true });
  const result = render(
    <QueryClientProvider client={client}>
      <Router hook={location.hook}>{ui}</Router>
    </QueryClientProvider>,
  );
  return { ...result, client, location };
}
