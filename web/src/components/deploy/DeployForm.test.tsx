import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DeployForm } from "./DeployForm";
import { MODEL_FOLDERS, PRESETS, problem, renderWithApp, stubApi } from "./testing";

afterEach(() => vi.unstubAllGlobals());

async function chooseGpu(id: string) {
  const option = (await screen.findAllByTestId("gpu-option")).find((el) => el.dataset.gpuId === id)!;
  fireEvent.click(option);
  return option;
}

describe("Deploy form", () => {
  it("limits the GPU count to the chosen GPU's largest machine in the cloud", async () => {
    stubApi();
    renderWithApp(<DeployForm />);
    await chooseGpu("NVIDIA A100 80GB PCIe");
    const count = screen.getByLabelText("GPU count") as HTMLInputElement;
    expect(count.max).toBe("2");
    // Too many: kept while typing, cut to the limit when the field is left, and the hint says why.
    expect(screen.queryByTestId("gpu-count-limit")).toBeNull();
    fireEvent.change(count, { target: { value: "99" } });
    expect(count.value).toBe("99");
    expect(screen.getByTestId("gpu-count-limit").textContent).toBe("A100 80GB PCIe comes at most 2 per pod in Secure cloud: it will be 2.");
    fireEvent.blur(count);
    expect(count.value).toBe("2");
    expect(screen.getByTestId("gpu-count-limit").textContent).toBe("A100 80GB PCIe comes at most 2 per pod in Secure cloud, so the count is 2.");
    // A count within the limit brings the plain hint back.
    fireEvent.change(count, { target: { value: "1" } });
    expect(screen.queryByTestId("gpu-count-limit")).toBeNull();
    fireEvent.change(count, { target: { value: "0" } });
    expect(count.value).toBe("1");
    // Emptied while typing: stays empty until the field is left, then shows 1.
    fireEvent.change(count, { target: { value: "" } });
    expect(count.value).toBe("");
    fireEvent.blur(count);
    expect(count.value).toBe("1");
    // Community machines of that GPU hold one.
    fireEvent.change(count, { target: { value: "2" } });
    fireEvent.click(screen.getByLabelText("Community cloud"));
    await waitFor(() => expect(count.value).toBe("1"));
    expect(count.max).toBe("1");
  });

  it("sends what was entered: GPU, cloud, disks, preset, a custom model, a node, tokens; then clears the tokens and opens the new deployment", async () => {
    const user = userEvent.setup();
    const api = stubApi();
    const { client, location } = renderWithApp(<DeployForm />);
    const invalidate = vi.spyOn(client, "invalidateQueries");
    await user.type(screen.getByLabelText("Name"), "flux-1");
    await chooseGpu("NVIDIA GeForce RTX 4090");
    await user.clear(screen.getByLabelText("GPU count"));
    await user.type(screen.getByLabelText("GPU count"), "2");
    await user.click(screen.getByLabelText("Community cloud"));
    await user.selectOptions(screen.getByLabelText("Data center"), "EU-RO-1");
    await user.clear(screen.getByLabelText("Container disk (GB)"));
    await user.type(screen.getByLabelText("Container disk (GB)"), "60");
    await user.clear(screen.getByLabelText("Volume (GB)"));
    await user.type(screen.getByLabelText("Volume (GB)"), "150");
    await screen.findByRole("option", { name: /SDXL base 1.0/ });
    await user.selectOptions(screen.getByLabelText("Model preset"), "sdxl-base");

    await user.click(screen.getByRole("button", { name: "+ Add model" }));
    const row = screen.getByRole("group", { name: "Custom model 1" });
    await user.selectOptions(within(row).getByLabelText("Folder"), "loras");
    await user.type(within(row).getByLabelText("Save as"), "detail; rm -rf $HOME.safetensors");
    await user.selectOptions(within(row).getByLabelText("Source"), "civitai");
    await user.type(within(row).getByLabelText("Model version ID"), "128713");
    await user.click(screen.getByRole("button", { name: "+ Add model" }));
    const row2 = screen.getByRole("group", { name: "Custom model 2" });
    await user.type(within(row2).getByLabelText("Repo"), "org/repo");
    await user.type(within(row2).getByLabelText("File in repo"), "sub/m.safetensors");

    await user.click(screen.getByRole("button", { name: "+ Add custom node" }));
    const node = screen.getByRole("group", { name: "Custom node 1" });
    await user.type(within(node).getByLabelText("Git repo URL"), "https://github.com/rgthree/rgthree-comfy");

    await user.type(screen.getByLabelText("Hugging Face token"), "hf_secret");
    await user.type(screen.getByLabelText("Civitai token"), "civ_secret");
    expect((screen.getByLabelText("Hugging Face token") as HTMLInputElement).type).toBe("password");
    expect(screen.getByLabelText("Civitai token").getAttribute("autocomplete")).toBe("off");

    await user.click(screen.getByRole("button", { name: "Deploy" }));
    await waitFor(() => expect(api.posts()).toHaveLength(1));
    expect(api.posts()[0]!.body).toEqual({
      name: "flux-1",
      gpu: { id: "NVIDIA GeForce RTX 4090", count: 2 },
      cloud: "COMMUNITY",
      container_disk_gb: 60,
      data_center_ids: ["EU-RO-1"],
      volume_gb: 150,
      preset: "sdxl-base",
      manifest: {
        version: 1,
        custom_nodes: [{ repo: "https://github.com/rgthree/rgthree-comfy", ref: "main" }],
        models: [
          { folder: "loras", name: "detail; rm -rf $HOME.safetensors", source: { type: "civitai", version_id: 128713 } },
          { folder: "checkpoints", source: { type: "huggingface", repo: "org/repo", file: "sub/m.safetensors" } },
        ],
      },
      hf_token: "hf_secret",
      civitai_token: "civ_secret",
    });
    await waitFor(() => expect(location.history?.at(-1)).toBe("/deployments/dep-1"));
    expect(invalidate).toHaveBeenCalledWith({ queryKey: ["deployments"] });
    expect((screen.getByLabelText("Hugging Face token") as HTMLInputElement).value).toBe("");
    expect((screen.getByLabelText("Civitai token") as HTMLInputElement).value).toBe("");
  }, 20_000);

  it("says at the choice which presets are gated, and what a gated one needs", async () => {
    const user = userEvent.setup();
    stubApi();
    renderWithApp(<DeployForm />);
    await screen.findByRole("option", { name: /SDXL base 1.0/ });
    const options = [...(screen.getByLabelText("Model preset") as HTMLSelectElement).options].map((o) => o.textContent);
    expect(options).toEqual(["No preset", "SDXL base 1.0 · 7.3 GB · no token needed", "FLUX.1-dev · 23.8 GB · gated: needs a Hugging Face token"]);
    await user.selectOptions(screen.getByLabelText("Model preset"), "flux-dev");
    expect(screen.getByTestId("preset-gated").textContent).toContain("give a Hugging Face token");
    expect(screen.getByText("This preset has gated models: give a token with access to them.")).toBeTruthy();
    await user.selectOptions(screen.getByLabelText("Model preset"), "sdxl-base");
    expect(screen.queryByTestId("preset-gated")).toBeNull();
    // The custom models and nodes link to the manifest format, in a new tab (the form stays).
    const links = screen.getAllByRole("link", { name: /The manifest format/ });
    expect(links.map((a) => [a.getAttribute("href"), a.getAttribute("target")])).toEqual([
      ["/docs/manifest", "_blank"],
      ["/docs/manifest", "_blank"],
    ]);
  });

  it("offers the model folders GET /presets lists, the folder select disabled until they load", async () => {
    const user = userEvent.setup();
    let loaded!: () => void;
    const presetsLoaded = new Promise<void>((resolve) => (loaded = resolve));
    stubApi({ presets: () => presetsLoaded.then(() => ({ status: 200, body: { presets: PRESETS, model_folders: MODEL_FOLDERS } })) });
    renderWithApp(<DeployForm />);
    await user.click(screen.getByRole("button", { name: "+ Add model" }));
    const folder = within(screen.getByRole("group", { name: "Custom model 1" })).getByLabelText("Folder") as HTMLSelectElement;
    expect(folder.disabled).toBe(true);
    expect(folder.value).toBe("checkpoints");
    loaded();
    await waitFor(() => expect(folder.disabled).toBe(false));
    expect([...folder.options].map((o) => o.value)).toEqual(MODEL_FOLDERS);
    expect(folder.value).toBe("checkpoints");
  });

  it("shows each 422 message at its field, and a budget 409 above the button", async () => {
    const user = userEvent.setup();
    let reply: { status: number; body: unknown } = problem(422, "invalid_input", "several", [
          { field: "name", message: "String should match pattern" },
          { field: "gpu.count", message: "machines have at most 8 GPUs in SECURE" },
          { field: "container_disk_gb", message: "Input should be greater than or equal to 20" },
          { field: "manifest.models.0.source.url", message: "scheme must be https" },
          { field: "body", message: "Value error, hf_token: not a valid token" },
        ]);
    const api = stubApi({ create: () => reply });
    renderWithApp(<DeployForm />);
    await user.type(screen.getByLabelText("Name"), "-bad");
    await chooseGpu("NVIDIA GeForce RTX 4090");
    await user.click(screen.getByRole("button", { name: "+ Add model" }));
    const row = screen.getByRole("group", { name: "Custom model 1" });
    await user.selectOptions(within(row).getByLabelText("Source"), "url");
    await user.type(within(row).getByLabelText("URL"), "http://huggingface.co/x");
    await user.click(screen.getByRole("button", { name: "Deploy" }));

    const cases: [string, HTMLElement, string][] = [
      ["name", screen.getByLabelText("Name"), "String should match pattern"],
      ["gpu.count", screen.getByLabelText("GPU count"), "at most 8 GPUs"],
      ["container_disk_gb", screen.getByLabelText("Container disk (GB)"), "greater than or equal to 20"],
      ["manifest.models.0.source.url", within(row).getByLabelText("URL"), "scheme must be https"],
      ["hf_token", screen.getByLabelText("Hugging Face token"), "not a valid token"],
    ];
    await waitFor(() => expect(screen.queryByTestId("field-error-name")).toBeTruthy(), { timeout: 3000 });
    expect(api.posts()).toHaveLength(1);
    for (const [field, input, message] of cases) {
      const error = await screen.findByTestId(`field-error-${field}`);
      expect(error.textContent).toContain(message);
      expect(input.getAttribute("aria-invalid")).toBe("true");
      expect(input.getAttribute("aria-describedby")?.split(" ")).toContain(error.id);
    }
    // Beside the button: every problem, each a link to the field that shows it, never "above".
    const summary = screen.getByTestId("deploy-error");
    expect(summary.textContent).not.toMatch(/above|below/);
    const items = within(summary).getAllByTestId("deploy-error-item");
    expect(items.map((i) => i.dataset.field)).toEqual(cases.map(([field]) => field));
    expect(items[4]!.textContent).toBe("Hugging Face token: not a valid token");
    await user.click(within(items[4]!).getByRole("button", { name: "Hugging Face token" }));
    expect(document.activeElement).toBe(screen.getByLabelText("Hugging Face token"));

    reply = problem(409, "budget_exceeded", "The daily budget is spent.");
    await user.click(screen.getByRole("button", { name: "Deploy" }));
    expect((await screen.findByTestId("deploy-error")).textContent).toContain("The daily budget is spent.");
    expect(screen.queryByTestId("field-error-name")).toBeNull();
  }, 20_000);

  it("puts a preflight error of the merged manifest at the custom row it means", async () => {
    const user = userEvent.setup();
    stubApi({
      create: () => (problem(422, "preflight_failed", "preflight failed", [{ field: "manifest.models.2", message: "loras/x.safetensors: not found on Hugging Face" }])),
    });
    renderWithApp(<DeployForm />);
    await user.type(screen.getByLabelText("Name"), "ok");
    await chooseGpu("NVIDIA GeForce RTX 4090");
    await screen.findByRole("option", { name: /SDXL base 1.0/ });
    await user.selectOptions(screen.getByLabelText("Model preset"), "sdxl-base");
    await user.click(screen.getByRole("button", { name: "+ Add model" }));
    await user.click(screen.getByRole("button", { name: "Deploy" }));
    const row = screen.getByRole("group", { name: "Custom model 1" });
    expect((await within(row).findByTestId("field-error-manifest.models.0")).textContent).toContain("not found on Hugging Face");
  });

  it("puts preflight's errors at the token and the preset model they name, and a 503 beside the button with its message", async () => {
    const user = userEvent.setup();
    let reply: { status: number; body: unknown } = problem(422, "preflight_failed", "preflight failed", [
          { field: "hf_token", message: "the preset's gated models need a Hugging Face token" },
          { field: "manifest.models.1", message: "vae/sdxl_vae.safetensors: not found" },
          { field: "volume_gb", message: "the models need 17.3 GB; ask for at least 18 GB" },
        ]);
    stubApi({ create: () => reply });
    renderWithApp(<DeployForm />);
    await user.type(screen.getByLabelText("Name"), "gated");
    await chooseGpu("NVIDIA GeForce RTX 4090");
    await screen.findByRole("option", { name: /SDXL base 1.0/ });
    await user.selectOptions(screen.getByLabelText("Model preset"), "sdxl-base");
    await user.click(screen.getByRole("button", { name: "Deploy" }));

    expect((await screen.findByTestId("field-error-hf_token")).textContent).toContain("need a Hugging Face token");
    expect(screen.getByLabelText("Hugging Face token").getAttribute("aria-invalid")).toBe("true");
    expect(within(screen.getByTestId("preset-details")).getByTestId("field-error-preset.models.1").textContent).toContain("not found");
    expect(screen.getByTestId("field-error-volume_gb").textContent).toContain("at least 18 GB");
    const items = within(screen.getByTestId("deploy-error")).getAllByTestId("deploy-error-item");
    expect(items.map((i) => i.textContent)).toEqual([
      "Hugging Face token: the preset's gated models need a Hugging Face token",
      "Preset model vae/sdxl_vae.safetensors: vae/sdxl_vae.safetensors: not found",
      "Volume: the models need 17.3 GB; ask for at least 18 GB",
    ]);

    // A host that did not answer: nothing is wrong with the form, and the button's box says so.
    reply = problem(503, "preflight_unavailable", "preflight could not finish, nothing was created: manifest.models.0: cannot reach huggingface.co: ConnectError; try again", [{ field: "manifest.models.0", message: "checkpoints/sd_xl_base_1.0.safetensors: cannot reach huggingface.co: ConnectError" }]);
    await user.click(screen.getByRole("button", { name: "Deploy" }));
    await waitFor(() => expect(screen.queryByTestId("field-error-hf_token")).toBeNull());
    const box = screen.getByTestId("deploy-error");
    expect(box.textContent).toContain("nothing was created. Try again");
    expect(box.textContent).toContain("cannot reach huggingface.co");
    expect(box.textContent).not.toMatch(/above|below/);
  }, 20_000);

  it("shows the server's estimate for the chosen GPU, asked after the inputs settle", async () => {
    const api = stubApi();
    renderWithApp(<DeployForm />);
    expect(screen.getByTestId("estimate-per-hour").textContent).toBe("—");
    await chooseGpu("NVIDIA GeForce RTX 4090");
    await waitFor(() => expect(screen.getByTestId("estimate-per-hour").textContent).toBe("$0.711/h"));
    expect(screen.getByTestId("estimate-per-day").textContent).toBe("$17.05");
    expect(screen.getByTestId("estimate-stopped-per-hour").textContent).toBe("$0.027/h");
    const asked = api.calls.filter((c) => c.path === "/api/v1/estimate");
    expect(asked).toHaveLength(1);
    expect(asked[0]!.body).toEqual({ gpu: { id: "NVIDIA GeForce RTX 4090", count: 1 }, cloud: "SECURE", container_disk_gb: 50, volume_gb: 100 });
  });

  it("never sends twice: the button is disabled while the create is in flight", async () => {
    const user = userEvent.setup();
    let release: (r: { status: number; body: unknown }) => void = () => {};
    const api = stubApi({ create: () => new Promise((resolve) => (release = resolve)) });
    renderWithApp(<DeployForm />);
    await user.type(screen.getByLabelText("Name"), "once");
    await chooseGpu("NVIDIA GeForce RTX 4090");
    const button = screen.getByRole("button", { name: "Deploy" }) as HTMLButtonElement;
    fireEvent.click(button);
    fireEvent.click(button);
    await waitFor(() => expect(button.disabled).toBe(true));
    await user.click(button);
    expect(api.posts()).toHaveLength(1);
    release(problem(503, "upstream_unavailable", "RunPod cannot be reached."));
    expect((await screen.findByTestId("deploy-error")).textContent).toContain("RunPod cannot be reached.");
    expect(button.disabled).toBe(false);
    expect(api.posts()).toHaveLength(1);
  });

  it("asks for a name and a GPU before sending anything", async () => {
    const user = userEvent.setup();
    const api = stubApi();
    renderWithApp(<DeployForm />);
    await screen.findAllByTestId("gpu-option");
    await user.click(screen.getByRole("button", { name: "Deploy" }));
    expect(screen.getByTestId("field-error-name").textContent).toContain("name");
    expect(screen.getByTestId("field-error-gpu.id").textContent).toContain("GPU");
    expect(screen.getByRole("radiogroup", { name: "GPU" }).getAttribute("aria-invalid")).toBe("true");
    expect(api.posts()).toHaveLength(0);
  });
});
