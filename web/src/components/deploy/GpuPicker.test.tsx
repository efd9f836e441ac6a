import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import { DEFAULT_FILTERS, filterGpus, GpuPicker } from "./GpuPicker";
import type { Cloud } from "./form";
import { GPUS } from "./testing";

const ids = () => screen.queryAllByTestId("gpu-option").map((el) => el.dataset.gpuId);

function Picker({ cloud = "SECURE", onSelect = () => {} }: { cloud?: Cloud; onSelect?: (id: string) => void }) {
  const [selected, setSelected] = useState<string | null>(null);
  return (
    <GpuPicker
      gpus={GPUS}
      loading={false}
      loadError={null}
      onRetry={() => {}}
      cloud={cloud}
      selectedId={selected}
      onSelect={(id) => {
        setSelected(id);
        onSelect(id);
      }}
    />
  );
}

describe("GPU picker", () => {
  it("sorts by the chosen cloud's price, GPUs not offered in it last", () => {
    render(<Picker />);
    expect(ids()).toEqual(["NVIDIA RTX A4000", "NVIDIA GeForce RTX 4090", "NVIDIA A100 80GB PCIe", "NVIDIA L40S"]);
  });

  it("shows tier, VRAM, both prices and stock on each row", () => {
    render(<Picker />);
    const row = screen.getAllByTestId("gpu-option").find((el) => el.dataset.gpuId === "NVIDIA GeForce RTX 4090")!;
    expect(row.textContent).toContain("high");
    expect(row.textContent).toContain("24 GB");
    expect(row.textContent).toContain("$0.690/h");
    expect(row.textContent).toContain("$0.340/h");
    expect(row.textContent).toContain("In stock");
    const l40 = screen.getAllByTestId("gpu-option").find((el) => el.dataset.gpuId === "NVIDIA L40S")!;
    expect(l40.textContent).toContain("Not in Secure");
  });

  it("filters by search, tier, stock and VRAM, and sorts by VRAM or name", async () => {
    const user = userEvent.setup();
    render(<Picker />);
    await user.type(screen.getByLabelText("Search GPUs"), "rtx");
    expect(ids()).toEqual(["NVIDIA RTX A4000", "NVIDIA GeForce RTX 4090"]);
    await user.click(screen.getByLabelText("In stock only"));
    expect(ids()).toEqual(["NVIDIA GeForce RTX 4090"]);
    await user.clear(screen.getByLabelText("Search GPUs"));
    expect(ids()).toEqual(["NVIDIA GeForce RTX 4090", "NVIDIA A100 80GB PCIe"]);
    await user.click(screen.getByRole("button", { name: "premium" }));
    expect(ids()).toEqual(["NVIDIA A100 80GB PCIe"]);
    await user.click(screen.getByRole("button", { name: "premium" }));
    await user.click(screen.getByLabelText("In stock only"));
    await user.selectOptions(screen.getByLabelText("Min VRAM"), "32");
    expect(ids()).toEqual(["NVIDIA A100 80GB PCIe", "NVIDIA L40S"]);
    await user.selectOptions(screen.getByLabelText("Min VRAM"), "0");
    await user.selectOptions(screen.getByLabelText("Sort GPUs by"), "vram");
    expect(ids()).toEqual(["NVIDIA A100 80GB PCIe", "NVIDIA GeForce RTX 4090", "NVIDIA RTX A4000", "NVIDIA L40S"]);
    await user.selectOptions(screen.getByLabelText("Sort GPUs by"), "name");
    // By name (A100, RTX 4090, RTX A4000); the L40S, not offered in Secure cloud, stays last.
    expect(ids()).toEqual(["NVIDIA A100 80GB PCIe", "NVIDIA GeForce RTX 4090", "NVIDIA RTX A4000", "NVIDIA L40S"]);
  });

  it("in Community cloud sorts by community price and offers the GPU missing from Secure", () => {
    expect(filterGpus(GPUS, { ...DEFAULT_FILTERS, inStockOnly: true }, "COMMUNITY").map((g) => g.id)).toEqual([
      "NVIDIA GeForce RTX 4090",
      "NVIDIA L40S",
      "NVIDIA A100 80GB PCIe",
    ]);
  });

  it("shows an empty state when the filters match nothing, and clears them", async () => {
    const user = userEvent.setup();
    render(<Picker />);
    await user.type(screen.getByLabelText("Search GPUs"), "no such gpu");
    expect(ids()).toEqual([]);
    expect(screen.getByText("No GPU matches these filters")).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Clear filters" }));
    expect(ids()).toHaveLength(4);
  });

  it("is a radio group: click selects, arrow keys move the selection", async () => {
    const user = userEvent.setup();
    const onSelect = vi.fn();
    render(<Picker onSelect={onSelect} />);
    const group = screen.getByRole("radiogroup", { name: "GPU" });
    await user.click(within(group).getAllByRole("radio")[1]!);
    expect(onSelect).toHaveBeenLastCalledWith("NVIDIA GeForce RTX 4090");
    expect(within(group).getAllByRole("radio")[1]?.getAttribute("aria-checked")).toBe("true");
    await user.keyboard("{ArrowDown}");
    expect(onSelect).toHaveBeenLastCalledWith("NVIDIA A100 80GB PCIe");
    expect(document.activeElement?.getAttribute("data-gpu-id")).toBe("NVIDIA A100 80GB PCIe");
    expect(within(group).getAllByRole("radio").filter((r) => r.getAttribute("aria-checked") === "true")).toHaveLength(1);
  });

  it("shows a skeleton while loading and an error with retry", async () => {
    const onRetry = vi.fn();
    const { rerender } = render(<GpuPicker gpus={undefined} loading loadError={null} onRetry={onRetry} cloud="SECURE" selectedId={null} onSelect={() => {}} />);
    expect(screen.getByTestId("gpu-skeleton")).toBeTruthy();
    rerender(<GpuPicker gpus={undefined} loading={false} loadError={new Error("boom")} onRetry={onRetry} cloud="SECURE" selectedId={null} onSelect={() => {}} />);
    expect(screen.getByRole("alert").textContent).toContain("boom");
    await userEvent.setup().click(screen.getByRole("button", { name: "Try again" }));
    expect(onRetry).toHaveBeenCalled();
  });
});
