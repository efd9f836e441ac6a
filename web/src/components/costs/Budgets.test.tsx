import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Budgets, parseThresholds } from "./Budgets";
import { budget } from "./fixtures";
import { mockApi, problem, renderWithClient } from "./testing";

afterEach(() => vi.unstubAllGlobals());

const deployments = {
  deployments: [
    { id: "dep1", name: "sdxl-studio", state: "ready" },
    { id: "dep2", name: "old", state: "terminated" },
  ],
};

function api(extra: Record<string, unknown> = {}) {
  return mockApi({
    "GET /api/v1/budgets": { budgets: [budget(), budget({ id: "b2", name: "Tiny daily", deployment_id: "dep1", period: "daily", state: "exceeded", limit_usd: "2", spent_usd: "2.5", remaining_usd: "0", on_exceed: "terminate" })] },
    "GET /api/v1/deployments": deployments,
    ...extra,
  });
}

describe("budgets", () => {
  it("lists each budget with its state, scope, spend and action", async () => {
    api();
    renderWithClient(<Budgets />);
    const items = await screen.findAllByTestId("budget");
    expect(items.map((i) => i.dataset.state)).toEqual(["ok", "exceeded"]);
    expect(items[0]?.textContent).toContain("All deployments");
    expect(items[0]?.textContent).toContain("$54.40 left");
    await waitFor(() => expect(items[1]?.textContent).toContain("sdxl-studio"));
    expect(items[1]?.textContent).toContain("$0.500 over");
    expect(items[1]?.textContent).toContain("terminates the pods");
    expect(within(items[0]!).getByRole("progressbar").getAttribute("aria-valuenow")).toBe("46");
  });

  it("creates a budget with what was entered", async () => {
    const calls = api({ "POST /api/v1/budgets": { status: 201, body: budget({ id: "b3", name: "GPU cap" }) } });
    renderWithClient(<Budgets />);
    await screen.findAllByTestId("budget");
    await screen.findByRole("option", { name: "sdxl-studio" });
    expect(screen.queryByRole("option", { name: "old" })).toBeNull();
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Budget name"), "GPU cap");
    await user.selectOptions(screen.getByLabelText("Applies to"), "dep1");
    await user.selectOptions(screen.getByLabelText("Period"), "daily");
    await user.type(screen.getByLabelText("Limit (USD)"), "25.50");
    await user.clear(screen.getByLabelText("Warn at (% of limit)"));
    await user.type(screen.getByLabelText("Warn at (% of limit)"), "75, 90");
    await user.selectOptions(screen.getByLabelText("When exceeded"), "terminate");
    await user.click(screen.getByRole("button", { name: "Create budget" }));
    await screen.findByText("Budget “GPU cap” created.");
    const post = calls.find((c) => c.method === "POST");
    expect(post?.body).toEqual({ name: "GPU cap", deployment_id: "dep1", period: "daily", limit_usd: "25.50", warn_at: [0.75, 0.9], on_exceed: "terminate" });
    expect((screen.getByLabelText("Budget name") as HTMLInputElement).value).toBe("");
  });

  it("shows the server's 422 at the field it names", async () => {
    api({
      "POST /api/v1/budgets": problem(422, "invalid_input", "limit_usd: Input should be less than or equal to 1000000", [
        { field: "limit_usd", message: "Input should be less than or equal to 1000000" },
      ]),
    });
    renderWithClient(<Budgets />);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText("Budget name"), "Huge");
    await user.type(screen.getByLabelText("Limit (USD)"), "2000000");
    await user.click(screen.getByRole("button", { name: "Create budget" }));
    const limit = screen.getByLabelText("Limit (USD)");
    await waitFor(() => expect(limit.getAttribute("aria-invalid")).toBe("true"));
    const message = document.getElementById(limit.getAttribute("aria-describedby") ?? "");
    expect(message?.textContent).toBe("Input should be less than or equal to 1000000");
    expect(screen.getByLabelText("Budget name").getAttribute("aria-invalid")).toBe("false");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("does not send a budget without a name or a limit", async () => {
    const calls = api();
    renderWithClient(<Budgets />);
    await userEvent.click(screen.getByRole("button", { name: "Create budget" }));
    expect(screen.getByLabelText("Budget name").getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByLabelText("Limit (USD)").getAttribute("aria-invalid")).toBe("true");
    expect(calls.some((c) => c.method === "POST")).toBe(false);
  });

  it("asks before deleting, and deletes only once confirmed", async () => {
    const calls = api({ "DELETE /api/v1/budgets/b1": { status: 204 } });
    renderWithClient(<Budgets />);
    await screen.findAllByTestId("budget");
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Delete budget Monthly cap" }));
    const dialog = screen.getByRole("dialog", { name: "Delete budget “Monthly cap”?" });
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);

    await user.click(screen.getByRole("button", { name: "Delete budget Monthly cap" }));
    await user.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Delete budget" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(calls.filter((c) => c.method === "DELETE").map((c) => c.path)).toEqual(["/api/v1/budgets/b1"]);
  });

  it("edits the limit and the action with a PATCH", async () => {
    const calls = api({ "PATCH /api/v1/budgets/b1": budget({ limit_usd: "150" }) });
    renderWithClient(<Budgets />);
    await screen.findAllByTestId("budget");
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Edit budget Monthly cap" }));
    const limit = screen.getByLabelText("New limit for Monthly cap (USD)");
    await user.clear(limit);
    await user.type(limit, "150");
    await user.selectOptions(screen.getByLabelText("Action for Monthly cap"), "warn");
    await user.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(screen.queryByRole("button", { name: "Save" })).toBeNull());
    expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({ limit_usd: "150", on_exceed: "warn" });
  });

  it("reads warning thresholds as percentages", () => {
    expect(parseThresholds("50, 80, 90")).toEqual([0.5, 0.8, 0.9]);
    expect(parseThresholds("75%")).toEqual([0.75]);
    expect(parseThresholds("")).toEqual([]);
    expect(parseThresholds("120")).toBeNull();
    expect(parseThresholds("abc")).toBeNull();
  });
});
