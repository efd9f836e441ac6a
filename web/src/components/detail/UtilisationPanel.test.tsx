import { render, screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { pod } from "../../test/fixtures";
import { xRange } from "./UtilChart";
import { UtilisationPanel } from "./UtilisationPanel";

// uPlot draws on a canvas that happy-dom lacks: a stand-in records what the chart is given.
const plots = vi.hoisted(() => [] as { data: unknown[][]; destroyed: boolean; series: { label?: string }[] }[]);
vi.mock("uplot", () => ({
  default: class {
    data: unknown[][];
    destroyed = false;
    series: { label?: string }[];
    constructor(opts: { series: { label?: string }[] }, data: unknown[][]) {
      this.data = data;
      this.series = opts.series;
      plots.push(this);
    }
    setData(data: unknown[][]) {
      this.data = data;
    }
    setSize() {}
    destroy() {
      this.destroyed = true;
    }
  },
}));

beforeEach(() => {
  plots.length = 0;
});

describe("UtilisationPanel", () => {
  it("shows the current numbers, GPUs averaged", () => {
    render(<UtilisationPanel pod={pod()} updatedAt={1_000_000} />);
    expect(screen.getByTestId("util-gpu").textContent).toContain("50%");
    expect(screen.getByTestId("util-gpuMemory").textContent).toContain("40%");
    expect(screen.getByTestId("util-cpu").textContent).toContain("20%");
    expect(screen.getByTestId("util-memory").textContent).toContain("10%");
    expect(screen.getByText("GPU 0: 40% · GPU 1: 60%")).toBeTruthy();
  });

  it("adds a sample to the chart each time the deployment is read", () => {
    const { rerender, unmount } = render(<UtilisationPanel pod={pod()} updatedAt={1_000_000} />);
    expect(plots).toHaveLength(1);
    expect(plots[0]!.series.map((s) => s.label)).toEqual([undefined, "GPU", "GPU memory", "CPU", "Memory"]);
    rerender(<UtilisationPanel pod={pod({ gpu_util: [90, 70], cpu_util: 80 })} updatedAt={1_010_000} />);
    // The same read again (a re-render, not a new read) adds nothing.
    rerender(<UtilisationPanel pod={pod({ gpu_util: [90, 70], cpu_util: 80 })} updatedAt={1_010_000} />);
    expect(plots[0]!.data).toEqual([
      [1000, 1010],
      [50, 80],
      [40, 40],
      [20, 80],
      [10, 10],
    ]);
    expect(screen.getByTestId("utilisation-chart").dataset.samples).toBe("2");
    unmount();
    expect(plots[0]!.destroyed).toBe(true);
  });

  it("keeps ten minutes of samples", () => {
    const { rerender } = render(<UtilisationPanel pod={pod()} updatedAt={1_000_000} />);
    rerender(<UtilisationPanel pod={pod()} updatedAt={1_300_000} />);
    rerender(<UtilisationPanel pod={pod()} updatedAt={1_700_000} />);
    expect(plots[0]!.data[0]).toEqual([1300, 1700]);
  });

  it("takes no samples while the pod is not running", () => {
    render(<UtilisationPanel pod={pod({ status: "EXITED", gpu_util: [], gpu_memory_util: [], cpu_util: null, memory_util: null })} updatedAt={1_000_000} />);
    expect(screen.getByTestId("utilisation-chart").dataset.samples).toBe("0");
    expect(screen.getByText("No utilisation while the pod is not running.")).toBeTruthy();
    expect(screen.getByTestId("util-gpu").textContent).toContain("—");
  });
});

describe("the chart's time window", () => {
  it("ends at the newest sample, grows from a minute to ten, then scrolls", () => {
    expect(xRange(1000, 1010)).toEqual([950, 1010]);
    expect(xRange(1000, 1300)).toEqual([1000, 1300]);
    expect(xRange(1000, 2000)).toEqual([1400, 2000]);
  });

  it("is the last minute when there is no sample yet", () => {
    const [from, to] = xRange(null, null);
    expect(to - from).toBe(60);
    expect(Math.abs(to - Date.now() / 1000)).toBeLessThan(5);
  });
});
