import { describe, expect, it } from "vitest";
import type { DeploymentCostView } from "../api/generated";
import { deployment } from "../test/fixtures";
import { burnRate, laterCost, listWithLaterCosts, rateHint } from "./cost";

const cost = (so_far_usd: string, per_hour_usd: string, metered_until: string | null = null): DeploymentCostView => ({
  so_far_usd,
  per_hour_usd,
  metered_until,
  projections: { hour: per_hour_usd, day: "0", week: "0", month: "0" },
});

describe("laterCost", () => {
  it("takes the newest rate but never a smaller cost so far", () => {
    const shown = cost("1.300000", "0.027397", "2026-11-26T10:06:00Z");
    const late = cost("1.290000", "0.461000", "2026-11-26T10:05:55Z");
    expect(laterCost(shown, late)).toEqual({ ...late, so_far_usd: "1.300000", metered_until: "2026-11-26T10:06:00Z" });
    const newer = cost("1.310000", "0.027397", "2026-11-26T10:06:05Z");
    expect(laterCost(shown, newer)).toBe(newer);
    expect(laterCost(undefined, late)).toBe(late);
  });

  it("keeps a list's costs from going back on a late read", () => {
    const shown = { deployments: [deployment({ id: "a", cost: cost("2", "0.1") }), deployment({ id: "b", cost: cost("1", "0.1") })] };
    const read = { deployments: [deployment({ id: "a", cost: cost("1.9", "0.2") }), deployment({ id: "c", cost: cost("0", "0") })] };
    const merged = listWithLaterCosts(shown, read);
    expect(merged.deployments.map((d) => [d.id, d.cost.so_far_usd, d.cost.per_hour_usd])).toEqual([
      ["a", "2", "0.2"],
      ["c", "0", "0"],
    ]);
  });
});

describe("burnRate", () => {
  it("adds the deployments' own rates and the network volumes'", () => {
    expect(burnRate([deployment({ cost: cost("0", "0.461000") }), deployment({ cost: cost("0", "0.027397") })], "0.000603")).toBe(0.489);
    expect(burnRate([], "0")).toBe(0);
  });
});

describe("rateHint", () => {
  const pod = deployment().pod!;
  it.each([
    ["ready", "RUNNING", "0.461", "GPU and storage"],
    ["stopping", "RUNNING", "0.461", "GPU and storage"],
    ["stopped", "EXITED", "0.027", "storage while stopped"],
    ["provisioning", "PROVISIONING", "0.02", "storage only: the GPU bills once the pod runs"],
    ["pending", null, "0", "nothing bills now"],
    ["terminated", null, "0", "nothing bills any more"],
  ] as const)("says what a %s deployment's rate pays for", (state, status, rate, hint) => {
    const dep = deployment({ state, pod: status ? { ...pod, status } : null, cost: cost("0", rate) });
    expect(rateHint(dep)).toBe(hint);
  });
});
