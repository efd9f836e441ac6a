import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CostSummary, DeploymentList, DeploymentView } from "../../api/generated";
import { keys } from "../../api/queries";
import { applyToCache } from "../../live/applyEvent";
import type { HangarEvent } from "../../live/eventStream";
import { DashboardPage } from "../../pages/DashboardPage";
import { costSummary, deployment } from "../../test/fixtures";

type Handler = (init: RequestInit | undefined, url: string) => Response | Promise<Response>;

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": status >= 400 ? "application/problem+json" : "application/json" },
  });
}

/** A fake server: `"METHOD /path"` → handler; every call is recorded. */
function serve(routes: Record<string, Handler>) {
  const calls: string[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const key = `${init?.method ?? "GET"} ${url.split("?")[0]}`;
    calls.push(key);
    const handler = routes[key];
    if (!handler) return json({ code: "not_found", detail: `no route ${key}` }, 404);
    return handler(init, url);
  });
  vi.stubGlobal("fetch", fetchMock);
  return calls;
}

function setup(deployments: DeploymentView[], costs: CostSummary = costSummary(), extra: Record<string, Handler> = {}) {
  const calls = serve({
    "GET /api/v1/deployments": () => json({ deployments } satisfies DeploymentList),
    "GET /api/v1/costs/summary": () => json(costs),
    ...extra,
  });
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <DashboardPage />
    </QueryClientProvider>,
  );
  return { calls, client };
}

async function card(name: string) {
  const link = await screen.findByRole("link", { name });
  return link.closest<HTMLElement>('[data-testid="deployment-card"]')!;
}

const event = (type: HangarEvent["type"], data: Record<string, unknown>, deployment_id = "dep1"): HangarEvent =>
  ({
    id: 1,
    type,
    time: "2026-11-26T10:06:00Z",
    deployment_id,
    pod_id: "pod1",
    data,
  }) as HangarEvent;

beforeEach(() => {
  window.history.replaceState(null, "", "/");
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe("DashboardPage", () => {
  it("shows a card per deployment with its name, GPU, state, cost and rate, newest first", async () => {
    setup([
      deployment({ id: "new", name: "sdxl", created_at: "2026-11-26T11:00:00Z", gpu: { id: "NVIDIA A40", count: 1 } }),
      deployment({ id: "old", name: "flux-dev", created_at: "2026-11-26T09:00:00Z" }),
    ]);
    const flux = await card("flux-dev");
    expect(flux.dataset.deploymentId).toBe("old");
    expect(within(flux).getByText("NVIDIA GeForce RTX 4090 × 2")).toBeTruthy();
    expect(within(flux).getByTestId("state-badge").dataset.state).toBe("ready");
    expect(within(flux).getByTestId("cost-so-far").textContent).toBe("$1.23");
    expect(within(flux).getByTestId("cost-rate").textContent).toBe("$0.901/h");
    expect(within(flux).getByRole("link", { name: "flux-dev" }).getAttribute("href")).toBe("/deployments/old");
    expect(within(flux).getByRole("link", { name: "Logs" }).getAttribute("href")).toBe("/deployments/old#logs");
    const comfy = within(flux).getByRole("link", { name: /Open ComfyUI/ });
    expect(comfy.getAttribute("href")).toBe("/api/v1/deployments/old/open");
    expect(comfy.getAttribute("target")).toBe("_blank");
    const order = screen.getAllByTestId("deployment-card").map((el) => el.dataset.deploymentId);
    expect(order).toEqual(["new", "old"]);
  });

  it("shows the summary: pods running, spend today, burn rate, balance", async () => {
    const rate = (per_hour_usd: string) => ({ ...deployment().cost, per_hour_usd });
    setup(
      [
        deployment({ id: "a", state: "ready", cost: rate("0.901000") }),
        deployment({ id: "b", state: "installing", cost: rate("0.421000") }),
        deployment({ id: "c", state: "stopped", cost: rate("0.027397") }),
      ],
      costSummary({ network_volumes_per_hour_usd: "0.000603" }),
    );
    await waitFor(() => expect(screen.getByTestId("summary-spend-today").textContent).toBe("$4.50"));
    expect(screen.getByTestId("summary-running").textContent).toBe("2");
    // The line under the number adds up to it; the stopped pod is named apart, as not counted.
    const hint = screen.getByTestId("summary-running-hint");
    expect(hint.children[0]!.textContent).toBe("1 ready · 1 starting");
    expect(hint.children[1]!.textContent).toBe("1 stopped (storage only), not counted");
    // The cards' own rates plus the network volumes: 0.901 + 0.421 + 0.027397 + 0.000603.
    expect(screen.getByTestId("summary-burn-rate").textContent).toBe("$1.350/h");
    expect(screen.getByTestId("summary-balance").textContent).toBe("$123.45");
  });

  it("says the balance is unknown when RunPod did not give it", async () => {
    setup([], costSummary({ balance_usd: null, balance_detail: "balance reader not running" }));
    await waitFor(() => expect(screen.getByTestId("summary-balance").textContent).toBe("—"));
    expect(screen.getByText("balance reader not running")).toBeTruthy();
  });

  it("keeps terminated deployments behind a toggle", async () => {
    const user = userEvent.setup();
    setup([deployment({ id: "a", name: "alive" }), deployment({ id: "t", name: "gone", state: "terminated", pod: null })]);
    await card("alive");
    expect(screen.queryByRole("link", { name: "gone" })).toBeNull();
    await user.click(screen.getByRole("button", { name: /^Show terminated \(1\)/ }));
    const gone = await card("gone");
    expect(within(gone).getByTestId("state-badge").dataset.state).toBe("terminated");
    expect(within(gone).getByRole("button", { name: "Terminate" }).hasAttribute("disabled")).toBe(true);
  });

  // The same rule as the detail page's header (lib/actions.ts), which the server's 409s follow.
  it.each([
    ["ready", {}, { Stop: true, Start: false, Restart: true, Terminate: true }, true],
    ["installing", {}, { Stop: true, Start: false, Restart: true, Terminate: true }, false],
    ["provisioning", {}, { Stop: true, Start: false, Restart: false, Terminate: true }, false],
    ["stopping", { desired_state: "stopped" }, { Stop: false, Start: true, Restart: false, Terminate: true }, false],
    ["stopped", { desired_state: "stopped" }, { Stop: false, Start: true, Restart: false, Terminate: true }, false],
    ["failed", {}, { Stop: true, Start: true, Restart: true, Terminate: true }, false],
    ["failed", { pod: null }, { Stop: false, Start: true, Restart: false, Terminate: true }, false],
    ["terminating", { desired_state: "terminated" }, { Stop: false, Start: false, Restart: false, Terminate: false }, false],
  ] as const)("in state %s %o enables only the actions that fit", async (state, more, enabled, comfy) => {
    setup([deployment({ state, ...more })]);
    const el = await card("flux-dev");
    for (const [name, on] of Object.entries(enabled)) {
      expect([name, within(el).getByRole("button", { name }).hasAttribute("disabled")]).toEqual([name, !on]);
    }
    expect(within(el).queryByRole("link", { name: /Open ComfyUI/ }) !== null).toBe(comfy);
  });

  it("asks before terminating and only then sends DELETE", async () => {
    const user = userEvent.setup();
    const { calls } = setup([deployment()], costSummary(), {
      "DELETE /api/v1/deployments/dep1": () => json(deployment({ state: "terminating" }), 202),
    });
    const el = await card("flux-dev");
    await user.click(within(el).getByRole("button", { name: "Terminate" }));
    const dialog = screen.getByRole("dialog");
    expect(dialog.textContent).toMatch(/pod .*and its volume disk are deleted/);
    expect(dialog.textContent).toMatch(/Billing for it ends/);
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(calls).not.toContain("DELETE /api/v1/deployments/dep1");

    await user.click(within(el).getByRole("button", { name: "Terminate" }));
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Terminate pod" }));
    await waitFor(() => expect(within(el).getByTestId("state-badge").dataset.state).toBe("terminating"));
    expect(calls.filter((c) => c === "DELETE /api/v1/deployments/dep1")).toHaveLength(1);
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("disables the buttons while an action runs and shows its error on the card", async () => {
    const user = userEvent.setup();
    let answer: (r: Response) => void = () => undefined;
    const { calls } = setup([deployment()], costSummary(), {
      "POST /api/v1/deployments/dep1/restart": () => new Promise<Response>((resolve) => (answer = resolve)),
    });
    const el = await card("flux-dev");
    await user.click(within(el).getByRole("button", { name: "Restart" }));
    expect(calls).toContain("POST /api/v1/deployments/dep1/restart");
    for (const name of ["Stop", "Restart", "Terminate"]) {
      expect(within(el).getByRole("button", { name }).hasAttribute("disabled")).toBe(true);
    }
    await act(async () =>
      answer(json({ status: 409, code: "conflict", detail: "cannot restart a deployment that is stopping" }, 409)),
    );
    const alert = await within(el).findByRole("alert");
    expect(alert.textContent).toContain("cannot restart a deployment that is stopping");
    expect(within(el).getByRole("button", { name: "Stop" }).hasAttribute("disabled")).toBe(false);
    await user.click(within(el).getByRole("button", { name: "Dismiss error" }));
    expect(within(el).queryByRole("alert")).toBeNull();
  });

  it("follows live events patched into the cache: state and cost", async () => {
    const { client } = setup([deployment({ state: "starting" })]);
    const el = await card("flux-dev");
    expect(within(el).getByRole("button", { name: "Restart" }).hasAttribute("disabled")).toBe(true);
    act(() => {
      applyToCache(client, event("cost_update", { so_far_usd: "2.5", per_hour_usd: "0.44" }));
      applyToCache(client, event("deployment_state", { state: "ready", previous: "starting", reason: null }));
    });
    await waitFor(() => expect(within(el).getByTestId("state-badge").dataset.state).toBe("ready"));
    expect(within(el).getByTestId("cost-so-far").textContent).toBe("$2.50");
    expect(within(el).getByTestId("cost-rate").textContent).toBe("$0.440/h");
    expect(within(el).getByRole("button", { name: "Restart" }).hasAttribute("disabled")).toBe(false);

    act(() => applyToCache(client, event("deployment_state", { state: "failed", previous: "ready", reason: "the pod vanished" })));
    expect(await within(el).findByText("the pod vanished")).toBeTruthy();
    expect(within(el).getByRole("button", { name: "Start" }).hasAttribute("disabled")).toBe(false);
  });

  it("moves the card's rate and the burn rate together on the state event, with why it stopped", async () => {
    const { client } = setup([deployment({ state: "ready" })], costSummary({ network_volumes_per_hour_usd: "0" }));
    const el = await card("flux-dev");
    await waitFor(() => expect(screen.getByTestId("summary-burn-rate").textContent).toBe("$0.901/h"));
    const why = "stopped by budget 'team': $5.01 spent of its $5.00 daily limit (2026-11-26)";
    const stopped = { so_far_usd: "1.300000", per_hour_usd: "0.027397", metered_until: "2026-11-26T10:06:00Z", projections: { hour: "0.027397", day: "0.657534", week: "4.602740", month: "19.726027" } };
    act(() => applyToCache(client, event("deployment_state", { state: "stopped", previous: "stopping", reason: why, cost: stopped })));
    await waitFor(() => expect(within(el).getByTestId("state-badge").dataset.state).toBe("stopped"));
    // One render: the card and the dashboard's figure never disagree.
    expect(within(el).getByTestId("cost-rate").textContent).toBe("$0.027/h");
    expect(screen.getByTestId("summary-burn-rate").textContent).toBe("$0.027/h");
    expect(within(el).getByTestId("cost-so-far").textContent).toBe("$1.30");
    expect(within(el).getByTestId("state-reason").textContent).toBe(why);

    // A cost update read before that event and delivered after it never takes cost so far back.
    act(() => applyToCache(client, event("cost_update", { so_far_usd: "1.290000", per_hour_usd: "0.027397" })));
    expect(within(el).getByTestId("cost-so-far").textContent).toBe("$1.30");
  });

  it("shows the running setup step, its message and bytes while installing, live", async () => {
    const { client } = setup([
      deployment({
        state: "installing",
        setup: [
          { step: "preflight", status: "done" },
          { step: "comfyui", status: "done" },
          { step: "custom_nodes", status: "done" },
          { step: "models", status: "running", message: "flux1-dev.safetensors", bytes_done: 1_500_000_000, bytes_total: 6_000_000_000 },
        ],
      }),
    ]);
    const el = await card("flux-dev");
    const progress = within(el).getByTestId("setup-progress");
    expect(progress.textContent).toContain("Downloading models");
    expect(progress.textContent).toContain("1.5 GB of 6.0 GB");
    expect(progress.textContent).toContain("flux1-dev.safetensors");
    // 3 steps done + a quarter of the fourth, out of six
    expect(within(progress).getByRole("progressbar").getAttribute("aria-valuenow")).toBe(String(Math.round((3.25 / 6) * 100)));

    act(() => applyToCache(client, event("setup_progress", { step: "models", status: "running", bytes_done: 4_500_000_000 })));
    await waitFor(() => expect(within(el).getByTestId("setup-progress").textContent).toContain("4.5 GB of 6.0 GB"));
    act(() => applyToCache(client, event("setup_progress", { step: "start", status: "started", message: "launching" })));
    await waitFor(() => expect(within(el).getByTestId("setup-progress").textContent).toContain("Starting ComfyUI"));
  });

  it("ticks the uptime every second while the pod runs", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-11-26T10:05:10Z")); // 10 s after RunPod said 125 s
    setup([deployment()]);
    const el = await card("flux-dev");
    expect(within(el).getByTestId("uptime").textContent).toBe("2m 15s");
    vi.setSystemTime(new Date("2026-11-26T10:05:13Z"));
    await waitFor(() => expect(within(el).getByTestId("uptime").textContent).toBe("2m 18s"), { timeout: 2500 });
  });

  it("explains what to do when there are no deployments", async () => {
    setup([]);
    expect(await screen.findByText("No deployments yet")).toBeTruthy();
    expect(screen.getByRole("link", { name: "Deploy ComfyUI" }).getAttribute("href")).toBe("/deploy");
    expect(screen.queryByTestId("deployment-card")).toBeNull();
  });

  it("shows skeletons while loading, then an error with a retry that works", async () => {
    const user = userEvent.setup();
    let fail = true;
    setup([], costSummary(), {
      "GET /api/v1/deployments": () =>
        fail ? json({ code: "internal_error", detail: "database is down" }, 500) : json({ deployments: [deployment()] }),
    });
    expect(screen.getByLabelText("Loading deployments")).toBeTruthy();
    expect(await screen.findByText("database is down")).toBeTruthy();
    expect(screen.getByTestId("summary-running").textContent).toBe("—");
    fail = false;
    await user.click(screen.getByRole("button", { name: "Try again" }));
    expect(await card("flux-dev")).toBeTruthy();
  });

  it("reads the cost summary under a key the live layer invalidates", async () => {
    const { client, calls } = setup([]);
    await waitFor(() => expect(screen.getByTestId("summary-spend-today").textContent).toBe("$4.50"));
    const before = calls.filter((c) => c === "GET /api/v1/costs/summary").length;
    await act(() => client.invalidateQueries({ queryKey: keys.costs }));
    expect(calls.filter((c) => c === "GET /api/v1/costs/summary").length).toBe(before + 1);
  });
});
