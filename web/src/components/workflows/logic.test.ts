import { describe, expect, it } from "vitest";
import { deployment, run, workflowDetail } from "../../test/fixtures";
import { estimateRun, fileProblem, inputsByNode, nameFromFile, overridesFrom, parseField } from "./logic";

const file = (name: string, size = 10) => new File([new Uint8Array(size)], name);
const inputs = workflowDetail().inputs;
const input = (key: string) => inputs.find((i) => i.key === key)!;

describe("fileProblem", () => {
  it("takes JSON, PNG and WebP, and refuses anything else before it is sent", () => {
    for (const name of ["flow.json", "shot.PNG", "x.webp"]) expect(fileProblem(file(name))).toBeNull();
    expect(fileProblem(file("notes.txt"))).toMatch(/notes\.txt is not a workflow file/);
    expect(fileProblem(file("empty.json", 0))).toBe("empty.json is empty.");
    expect(fileProblem(file("big.png", 32 * 1024 * 1024 + 1))).toMatch(/larger than 32 MB/);
  });

  it("names the workflow after the file", () => {
    expect(nameFromFile(file("my fox.v2.json"))).toBe("my fox.v2");
  });
});

describe("the inputs form", () => {
  it("groups inputs by node in the prompt's order", () => {
    expect(inputsByNode(inputs).map((g) => [g.nodeId, g.classType, g.inputs.length])).toEqual([
      ["3", "KSampler", 3],
      ["4", "CheckpointLoaderSimple", 1],
      ["6", "CLIPTextEncode", 1],
    ]);
  });

  it("parses each field by its type", () => {
    expect(parseField(input("3.steps"), "30")).toEqual({ ok: true, value: 30 });
    expect(parseField(input("3.steps"), "3.5")).toEqual({ ok: false, message: "a whole number" });
    expect(parseField(input("3.seed"), "9007199254740991")).toEqual({ ok: true, value: 9007199254740991 });
    expect(parseField(input("3.seed"), "18446744073709551615")).toMatchObject({ ok: false, message: expect.stringMatching(/^at most 9007199254740991/) });
    expect(parseField(input("3.cfg"), "7.5")).toEqual({ ok: true, value: 7.5 });
    expect(parseField(input("3.cfg"), "")).toEqual({ ok: false, message: "a number" });
    expect(parseField(input("6.text"), "  spaces kept ")).toEqual({ ok: true, value: "  spaces kept " });
  });

  it("sends only what the user changed, and says which field is wrong", () => {
    const texts = { "3.steps": "30", "3.cfg": "8", "6.text": "a blue fox", "4.ckpt_name": "v1-5.safetensors" };
    expect(overridesFrom(inputs, texts)).toEqual({ overrides: { "3.steps": 30, "6.text": "a blue fox" }, errors: {} });
    expect(overridesFrom(inputs, { "3.steps": "many" })).toEqual({ overrides: {}, errors: { "3.steps": "Must be a whole number." } });
  });
});

describe("estimateRun", () => {
  const dep = { kind: "deployment" as const, deployment: deployment() }; // $0.901/h
  const done = (startedAt: string, finishedAt: string) => run({ state: "succeeded", started_at: startedAt, finished_at: finishedAt });

  it("is the pod's rate times the median of earlier runs there, times the count", () => {
    const earlier = [
      done("2026-11-26T10:00:00Z", "2026-11-26T10:00:30Z"),
      done("2026-11-26T10:01:00Z", "2026-11-26T10:01:40Z"),
      done("2026-11-26T10:02:00Z", "2026-11-26T10:04:00Z"),
      run({ state: "failed", started_at: "2026-11-26T10:05:00Z", finished_at: "2026-11-26T11:05:00Z" }),
    ];
    const estimate = estimateRun(dep, earlier, 4);
    expect(estimate).toMatchObject({ kind: "estimate", perRunS: 40, basedOn: 3, perHourUsd: 0.901 });
    expect(estimate.kind === "estimate" && estimate.totalUsd).toBeCloseTo((0.901 * 40 * 4) / 3600, 9);
  });

  it("says plainly when it cannot be estimated", () => {
    expect(estimateRun(undefined, [], 1)).toEqual({ kind: "unknown", reason: "Pick a target to see what the run costs." });
    expect(estimateRun({ kind: "server", id: "s1", name: "local" }, [], 1)).toMatchObject({ kind: "unknown", reason: expect.stringMatching(/^Not estimated/) });
    const none = estimateRun(dep, [run({ state: "running" })], 1);
    expect(none).toMatchObject({ kind: "unknown", reason: expect.stringContaining("has not run on flux-dev before") });
    expect(none.kind === "unknown" && none.reason).toContain("$0.901/h");
  });
});
