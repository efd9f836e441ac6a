import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { RunCreate, ServerView } from "../../api/generated";
import { WorkflowsPage } from "../../pages/WorkflowsPage";
import { deployment, run, workflowDetail } from "../../test/fixtures";
import { json, renderAt, serve, type Handler } from "./testing";

const wf = workflowDetail();
const WF = `/api/v1/workflows/${wf.id}`;

function setup(extra: Record<string, Handler> = {}, path = `/workflows/${wf.id}`) {
  const calls = serve({
    "GET /api/v1/workflows": () => json({ items: [wf], total: 1 }),
    [`GET ${WF}`]: () => json(wf),
    "GET /api/v1/deployments": () => json({ deployments: [deployment(), deployment({ id: "dep2", name: "stopped-one", state: "stopped" })] }),
    "GET /api/v1/comfyui-servers": () => json({ items: [{ id: "srv1", name: "local", url: "http://127.0.0.1:8188", auth_header_name: null, has_auth: false, created_at: "2026-11-26T09:00:00Z" }] }),
    "GET /api/v1/runs": () => json({ items: [], total: 0 }),
    ...extra,
  });
  return { calls, ...renderAt(<WorkflowsPage id={path.split("/")[2]} />, path) };
}

const field = (key: string) => document.querySelector<HTMLElement>(`[data-testid="run-input"][data-key="${key}"]`)!;
const control = (key: string) => field(key).querySelector<HTMLInputElement>("input, textarea")!;

afterEach(() => vi.unstubAllGlobals());

describe("WorkflowsPage", () => {
  it("lists the library and shows a workflow's versions and its inputs, prefilled", async () => {
    setup();
    expect(await screen.findByRole("heading", { name: "fox" })).toBeTruthy();
    const versions = screen.getByTestId("workflow-versions");
    expect(within(versions).getAllByRole("listitem").map((li) => li.textContent)).toEqual([
      expect.stringContaining("v2editor format5 inputsmore steps"),
      expect.stringContaining("v1editor format5 inputs"),
    ]);
    expect(control("3.steps").value).toBe("20");
    expect(control("6.text").value).toBe("a red fox");
    expect(field("4.ckpt_name").textContent).toContain("4.ckpt_name");
    // Targets: ready deployments and registered servers only.
    const target = await screen.findByLabelText("Target");
    await waitFor(() => expect(within(target).getAllByRole("option").map((o) => o.textContent)).toEqual([
      "flux-dev (pod, 2× NVIDIA GeForce RTX 4090)",
      "local (server, http://127.0.0.1:8188)",
    ]));
  });

  it("refuses a file that is not a workflow before sending it, and shows the server's reason for a bad one", async () => {
    const user = userEvent.setup({ applyAccept: false });
    const { calls } = setup({
      "POST /api/v1/workflows": () => json({ code: "invalid_workflow", detail: "This is not JSON: Expecting value at line 1.", reason: "invalid_json" }, 422),
    });
    const picker = await screen.findByLabelText("Workflow file");
    await user.upload(picker, new File(["hello"], "notes.txt"));
    expect(screen.getByTestId("workflow-file-error").textContent).toMatch(/notes\.txt is not a workflow file/);
    expect(screen.queryByRole("button", { name: "Add workflow" })).toBeNull();

    await user.upload(picker, new File(["{ nope"], "broken.json"));
    expect((screen.getByLabelText("Name") as HTMLInputElement).value).toBe("broken");
    await user.click(screen.getByRole("button", { name: "Add workflow" }));
    expect((await screen.findByTestId("workflow-file-error")).textContent).toBe("This is not JSON: Expecting value at line 1.");
    const post = calls.find((c) => c.key === "POST /api/v1/workflows")!;
    const form = post.init!.body as FormData;
    expect((form.get("file") as File).name).toBe("broken.json");
    expect(form.get("name")).toBe("broken");
  });

  it("runs with only the changed inputs, count and seed, on the chosen target, and opens the run", async () => {
    const user = userEvent.setup();
    let body: RunCreate | undefined;
    const { location } = setup({
      "POST /api/v1/runs": (init) => {
        body = JSON.parse(String(init!.body)) as RunCreate;
        return json({ batch_id: "b1", runs: [run({ id: "r1" }), run({ id: "r2" })] }, 201);
      },
    });
    await screen.findByRole("heading", { name: "fox" });
    await user.clear(control("6.text"));
    await user.type(control("6.text"), "a blue fox");
    await user.clear(screen.getByLabelText("Count"));
    await user.type(screen.getByLabelText("Count"), "2");
    await user.type(screen.getByLabelText(/^Seed/), "42");
    await user.selectOptions(screen.getByLabelText("Seeds over the runs"), "fixed");
    await user.click(screen.getByRole("button", { name: "Queue 2 runs" }));
    await waitFor(() => expect(location.history?.at(-1)).toBe("/runs?batch=b1"));
    expect(body).toEqual({
      workflow_id: wf.id,
      workflow_version: 2,
      overrides: { "6.text": "a blue fox" },
      count: 2,
      deployment_id: "dep1",
      seed: 42,
      seed_mode: "fixed",
    });
  });

  it("shows the server's refusals at their fields: a bad value and a model file the target lacks", async () => {
    const user = userEvent.setup();
    const { calls } = setup({
      "POST /api/v1/runs": () =>
        json(
          {
            code: "not_runnable_on_target",
            detail: "flux-dev cannot run this: node 4 (CheckpointLoaderSimple): ckpt_name v1-5.safetensors is not on the pod",
            problems: [
              { reason: "missing_file", node_id: "4", class_type: "CheckpointLoaderSimple", input: "ckpt_name", value: "v1-5.safetensors", message: "v1-5.safetensors is not in checkpoints on the pod", provided_by: [{ preset: "sd15", folder: "checkpoints", source: "huggingface:x/y" }] },
              { reason: "unknown_node_type", node_id: "12", class_type: "Upscaler9000", input: null, value: null, message: "node 12: Upscaler9000 is not installed" },
            ],
          },
          422,
        ),
    });
    await screen.findByRole("heading", { name: "fox" });
    // A value the form itself can tell is wrong never leaves.
    await user.clear(control("3.steps"));
    await user.type(control("3.steps"), "lots");
    await user.click(screen.getByRole("button", { name: "Run" }));
    expect(field("3.steps").textContent).toContain("Must be a whole number.");
    expect(control("3.steps").getAttribute("aria-invalid")).toBe("true");
    expect(calls.some((c) => c.key === "POST /api/v1/runs")).toBe(false);

    await user.clear(control("3.steps"));
    await user.type(control("3.steps"), "30");
    await user.click(screen.getByRole("button", { name: "Run" }));
    await waitFor(() => expect(field("4.ckpt_name").textContent).toContain("v1-5.safetensors is not in checkpoints on the pod"));
    expect(control("4.ckpt_name").getAttribute("aria-invalid")).toBe("true");
    const alert = screen.getByTestId("run-error");
    expect(alert.textContent).toContain("node 12: Upscaler9000 is not installed");
    expect(alert.textContent).not.toContain("v1-5.safetensors is not in checkpoints"); // shown at its field
    // Another target: that target's refusals are gone.
    await user.selectOptions(screen.getByLabelText("Target"), "server:srv1");
    expect(screen.queryByTestId("run-error")).toBeNull();
    expect(control("4.ckpt_name").getAttribute("aria-invalid")).toBeNull();
  });

  it("estimates the GPU cost from earlier runs on the pod, and says when it cannot", async () => {
    const user = userEvent.setup();
    setup({
      "GET /api/v1/runs": (_, url) =>
        json(
          url.includes("deployment_id=dep1")
            ? { items: [run({ state: "succeeded", started_at: "2026-11-26T10:00:00Z", finished_at: "2026-11-26T10:01:00Z" })], total: 1 }
            : { items: [], total: 0 },
        ),
    });
    const estimate = await screen.findByTestId("run-estimate");
    await waitFor(() => expect(estimate.dataset.kind).toBe("estimate"));
    expect(estimate.textContent).toContain("About $0.015 of GPU time: 1 × 1m 00s at $0.901/h");
    await user.selectOptions(screen.getByLabelText("Target"), "server:srv1");
    expect(estimate.dataset.kind).toBe("unknown");
    expect(estimate.textContent).toContain("Not estimated: a registered ComfyUI server is not a pod ComfyHangar pays for.");
  });

  it("deletes a workflow after asking, and goes back to the library", async () => {
    const user = userEvent.setup();
    const { calls, location } = setup({ [`DELETE ${WF}`]: () => new Response(null, { status: 204 }) });
    await screen.findByRole("heading", { name: "fox" });
    await user.click(screen.getByRole("button", { name: "Delete" }));
    const dialog = screen.getByRole("dialog", { name: "Delete fox?" });
    expect(calls.some((c) => c.key === `DELETE ${WF}`)).toBe(false);
    await user.click(within(dialog).getByRole("button", { name: "Delete workflow" }));
    await waitFor(() => expect(location.history?.at(-1)).toBe("/workflows"));
    expect(calls.filter((c) => c.key === `DELETE ${WF}`)).toHaveLength(1);
  });

  it("registers a ComfyUI server from the run form, shows a refused URL at its field, and picks the new server", async () => {
    const user = userEvent.setup();
    const servers: ServerView[] = [{ id: "srv1", name: "local", url: "http://127.0.0.1:8188", auth_header_name: null, has_auth: false, created_at: "2026-11-26T09:00:00Z" }];
    let sent: Record<string, unknown> | undefined;
    let attempt = 0;
    setup({
      "GET /api/v1/comfyui-servers": () => json({ items: servers }),
      "POST /api/v1/comfyui-servers": (init) => {
        sent = JSON.parse(String(init!.body)) as Record<string, unknown>;
        attempt += 1;
        if (attempt === 1) return json({ code: "invalid_input", detail: "url: must be http(s)", errors: [{ field: "url", message: "An http or https URL." }] }, 422);
        const created = { id: "srv2", name: "home-4090", url: "http://10.0.0.5:8188", auth_header_name: "Authorization", has_auth: true, created_at: "2026-11-26T10:00:00Z" };
        servers.push(created);
        return json(created, 201);
      },
    });
    await screen.findByRole("heading", { name: "fox" });
    await user.click(screen.getByRole("button", { name: "Register a ComfyUI server…" }));
    const dialog = screen.getByRole("dialog", { name: "Register a ComfyUI server" });
    await user.type(within(dialog).getByLabelText("Server name"), "home-4090");
    await user.type(within(dialog).getByLabelText("URL"), "ftp://x");
    await user.type(within(dialog).getByLabelText("Auth header (optional)"), "Authorization");
    const secret = within(dialog).getByLabelText("Its value");
    expect(secret.getAttribute("type")).toBe("password");
    await user.type(secret, "Bearer s3cret");
    await user.click(within(dialog).getByRole("button", { name: "Register" }));
    await waitFor(() => expect(within(dialog).getByLabelText("URL").getAttribute("aria-invalid")).toBe("true"));
    expect(dialog.textContent).toContain("An http or https URL.");
    await user.clear(within(dialog).getByLabelText("URL"));
    await user.type(within(dialog).getByLabelText("URL"), "http://10.0.0.5:8188");
    await user.click(within(dialog).getByRole("button", { name: "Register" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(sent).toEqual({ name: "home-4090", url: "http://10.0.0.5:8188", auth_header_name: "Authorization", auth_header_value: "Bearer s3cret" });
    await waitFor(() => expect((screen.getByLabelText("Target") as HTMLSelectElement).value).toBe("server:srv2"));
    expect(document.body.textContent).not.toContain("s3cret");
  });

  it("uploads an input image to the chosen target and sets the LoadImage input to its name", async () => {
    const user = userEvent.setup();
    const withImage = workflowDetail({
      inputs: [...wf.inputs, { key: "10.image", node_id: "10", class_type: "LoadImage", input: "image", type: "COMBO", default: "example.png" }],
    });
    let form: FormData | undefined;
    let body: RunCreate | undefined;
    setup({
      [`GET ${WF}`]: () => json(withImage),
      "POST /api/v1/input-files": (init) => {
        form = init!.body as FormData;
        return json({ name: "cat (1).png", subfolder: "", type: "input", reference: "cat (1).png" }, 201);
      },
      "POST /api/v1/runs": (init) => {
        body = JSON.parse(String(init!.body)) as RunCreate;
        return json({ batch_id: "b1", runs: [run({ id: "r1" })] }, 201);
      },
    });
    await screen.findByRole("heading", { name: "fox" });
    await waitFor(() => expect((screen.getByLabelText("Target") as HTMLSelectElement).value).toBe("deployment:dep1"));
    expect(control("10.image").value).toBe("example.png");
    await user.upload(screen.getByLabelText("Upload an image for 10.image"), new File(["png"], "cat.png", { type: "image/png" }));
    await waitFor(() => expect(control("10.image").value).toBe("cat (1).png"));
    expect((form!.get("file") as File).name).toBe("cat.png");
    expect(form!.get("deployment_id")).toBe("dep1");
    await user.click(screen.getByRole("button", { name: "Run" }));
    await waitFor(() => expect(body?.overrides).toEqual({ "10.image": "cat (1).png" }));
  });

  it("adds a version from a file with a note; the form then runs the new version", async () => {
    const user = userEvent.setup();
    let form: FormData | undefined;
    const v3 = workflowDetail({
      latest_version: 3,
      versions: [{ version: 3, source_format: "api", has_api_prompt: true, inputs: wf.inputs, note: "cfg 6", created_at: "2026-11-26T11:00:00Z" }, ...wf.versions],
    });
    setup({
      [`POST ${WF}/versions`]: (init) => {
        form = init!.body as FormData;
        return json(v3, 201);
      },
    });
    await screen.findByRole("heading", { name: "Run version 2" });
    await user.upload(screen.getByLabelText("New version file"), new File(["{}"], "fox-api.json", { type: "application/json" }));
    await user.type(screen.getByLabelText(/What changed/), "cfg 6");
    await user.click(screen.getByRole("button", { name: "Add v3" }));
    expect(await screen.findByRole("heading", { name: "Run version 3" })).toBeTruthy();
    expect(within(screen.getByTestId("workflow-versions")).getAllByRole("listitem")[0]!.textContent).toContain("v3API format5 inputscfg 6");
    expect((form!.get("file") as File).name).toBe("fox-api.json");
    expect(form!.get("note")).toBe("cfg 6");
  });

  it("never swaps a picked pod that stopped for another target, and queues once on a double click", async () => {
    const user = userEvent.setup();
    let posts = 0;
    const { client, location } = setup({
      "GET /api/v1/deployments": () => json({ deployments: [deployment(), deployment({ id: "dep2", name: "second" })] }),
      "POST /api/v1/runs": async () => {
        posts += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return json({ batch_id: "b1", runs: [run({ id: "r1" })] }, 201);
      },
    });
    await screen.findByRole("heading", { name: "fox" });
    const target = await screen.findByLabelText("Target");
    await waitFor(() => expect(within(target).getAllByRole("option")).toHaveLength(3));
    // Untouched, the form holds the first target; dep1 stops: it leaves the list, and the form
    // does not fall back to dep2 on its own.
    expect((target as HTMLSelectElement).value).toBe("deployment:dep1");
    client.setQueryData(["deployments"], { deployments: [deployment({ state: "stopped" }), deployment({ id: "dep2", name: "second" })] });
    expect(await screen.findByTestId("target-lost")).toBeTruthy();
    expect((screen.getByLabelText("Target") as HTMLSelectElement).value).toBe("");
    expect((screen.getByRole("button", { name: "Run" }) as HTMLButtonElement).disabled).toBe(true);

    await user.selectOptions(screen.getByLabelText("Target"), "deployment:dep2");
    const button = screen.getByRole("button", { name: "Run" });
    act(() => {
      // Two clicks before React renders the first one's "Queueing…" (a fast double click).
      button.click();
      button.click();
    });
    await waitFor(() => expect(location.history?.at(-1)).toBe("/runs/r1"));
    expect(posts).toBe(1);
  });

  it("takes a file dropped on the zone", async () => {
    setup();
    const zone = await screen.findByTestId("workflow-drop");
    const file = new File(['{"3": {"class_type": "KSampler", "inputs": {}}}'], "dropped.json", { type: "application/json" });
    fireEvent.dragOver(zone, { dataTransfer: { files: [file] } });
    fireEvent.drop(zone, { dataTransfer: { files: [file] } });
    expect((await screen.findByLabelText("Name") as HTMLInputElement).value).toBe("dropped");
    expect(screen.getByText("dropped.json")).toBeTruthy();
  });

  it("when every refusal is at an input, the summary points to them instead of repeating them", async () => {
    const user = userEvent.setup();
    setup({
      "POST /api/v1/runs": () =>
        json(
          {
            code: "not_runnable_on_target",
            detail: "flux-dev cannot run this: v1-5.safetensors is not in checkpoints on the pod",
            problems: [{ reason: "missing_file", node_id: "4", class_type: "CheckpointLoaderSimple", input: "ckpt_name", value: "v1-5.safetensors", message: "v1-5.safetensors is not in checkpoints on the pod" }],
          },
          422,
        ),
    });
    await screen.findByRole("heading", { name: "fox" });
    await waitFor(() => expect((screen.getByLabelText("Target") as HTMLSelectElement).value).toBe("deployment:dep1"));
    await user.click(screen.getByRole("button", { name: "Run" }));
    expect((await screen.findByTestId("run-error")).textContent).toBe("flux-dev cannot run this as it is: see the inputs marked above.");
    expect(field("4.ckpt_name").textContent).toContain("v1-5.safetensors is not in checkpoints on the pod");
  });
});

