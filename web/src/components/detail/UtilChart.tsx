/**
 * The one place uPlot lives (it needs a real canvas: tests mock this module's `uplot` import).
 * Percentages over time for GPU, GPU memory, CPU and memory; resizes with its container.
 */
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { WINDOW_S, type UtilSample } from "./utilSamples";

export const SERIES = [
  { key: "gpu", label: "GPU", colour: "#38bdf8" },
  { key: "gpuMemory", label: "GPU memory", colour: "#a78bfa" },
  { key: "cpu", label: "CPU", colour: "#34d399" },
  { key: "memory", label: "Memory", colour: "#fbbf24" },
] as const;

export function chartData(samples: UtilSample[]): uPlot.AlignedData {
  return [samples.map((s) => s.t), ...SERIES.map(({ key }) => samples.map((s) => s[key]))];
}

/** Room the axes take: the y-axis labels on the left, the time labels below (overlays keep clear of them). */
export const Y_AXIS_PX = 48;
export const X_AXIS_PX = 36;

const AXIS = { stroke: "#94a3b8", grid: { stroke: "#1e293b", width: 1 }, ticks: { stroke: "#334155", width: 1 }, font: "11px ui-sans-serif, system-ui, sans-serif" };

/** A window ending at the newest sample: it grows from a minute to ten, then scrolls. */
export function xRange(min: number | null, max: number | null): [number, number] {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) {
    const now = Math.floor(Date.now() / 1000);
    return [now - MIN_SPAN_S, now];
  }
  return [max - Math.min(WINDOW_S, Math.max(MIN_SPAN_S, max - min)), max];
}
const MIN_SPAN_S = 60;

function clock(seconds: number, withSeconds: boolean): string {
  return new Date(seconds * 1000).toLocaleTimeString(undefined, {
    hour: "2-digit",
    minute: "2-digit",
    second: withSeconds ? "2-digit" : undefined,
    hour12: false,
  });
}

export function UtilChart({ samples, height = 160 }: { samples: UtilSample[]; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(samples);
  latest.current = samples;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const chart = new uPlot(
      {
        width: Math.max(el.clientWidth, 200),
        height,
        legend: { show: false },
        cursor: { drag: { x: false, y: false }, points: { size: 6 } },
        scales: { x: { time: true, range: (_u, min, max) => xRange(min, max) }, y: { range: [0, 100] } },
        axes: [
          { ...AXIS, size: X_AXIS_PX, space: 64, values: (_u, ticks, _axis, _space, step) => ticks.map((t) => clock(t, step < 60)) },
          { ...AXIS, size: Y_AXIS_PX, values: (_u, ticks) => ticks.map((v) => `${v}%`), splits: () => [0, 25, 50, 75, 100] },
        ],
        series: [
          {},
          ...SERIES.map(({ label, colour }) => ({ label, stroke: colour, width: 1.5, spanGaps: false, points: { show: false } })),
        ],
      },
      chartData(latest.current),
      el,
    );
    plot.current = chart;
    const resize = typeof ResizeObserver === "undefined"
      ? null
      : new ResizeObserver(() => chart.setSize({ width: Math.max(el.clientWidth, 200), height }));
    resize?.observe(el);
    return () => {
      resize?.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [height]);

  useEffect(() => {
    plot.current?.setData(chartData(samples));
  }, [samples]);

  return <div ref={box} className="w-full overflow-hidden" style={{ height }} />;
}
