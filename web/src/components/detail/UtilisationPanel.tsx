/** The pod's GPU, GPU memory, CPU and memory use now, and over the last ten minutes. */
import type { PodView } from "../../api/generated";
import { SERIES, UtilChart, X_AXIS_PX, Y_AXIS_PX } from "./UtilChart";
import { sampleOf, useUtilSamples, type UtilSample } from "./utilSamples";

function pct(value: number | null): string {
  return value === null ? "—" : `${Math.round(value)}%`;
}

export function UtilisationPanel({ pod, updatedAt }: { pod: PodView | null; updatedAt: number }) {
  const samples = useUtilSamples(pod, updatedAt);
  const current: UtilSample | null = sampleOf(pod, 0);
  const running = pod?.status === "RUNNING";
  const perGpu = pod?.gpu_util ?? [];
  return (
    <div className="space-y-3">
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
        {SERIES.map(({ key, label, colour }) => (
          <div key={key} className="min-w-0" data-testid={`util-${key}`}>
            <dt className="flex items-center gap-1.5 text-xs text-slate-500">
              <span className="h-2 w-2 shrink-0 rounded-full" style={{ backgroundColor: colour }} aria-hidden />
              <span className="truncate">{label}</span>
            </dt>
            <dd className="mt-0.5 text-xl font-semibold tabular-nums text-white">{pct(current?.[key] ?? null)}</dd>
          </div>
        ))}
      </dl>
      {perGpu.length > 1 && (
        <p className="text-xs tabular-nums text-slate-500">
          {perGpu.map((v, i) => `GPU ${i}: ${Math.round(v)}%`).join(" · ")}
        </p>
      )}
      <div data-testid="utilisation-chart" data-samples={samples.length} className="relative" aria-label="Utilisation over the last 10 minutes" role="img">
        <UtilChart samples={samples} />
        {samples.length < 2 && (
          // Over the plot area only, so the axis labels stay readable.
          <p
            className="absolute right-0 top-0 flex items-center justify-center p-2 text-center"
            style={{ left: Y_AXIS_PX, bottom: X_AXIS_PX }}
          >
            <span className="rounded-md bg-slate-900/90 px-3 py-1.5 text-xs text-slate-400 sm:text-sm">
              {running ? "Collecting samples: a new one about every 10 seconds." : "No utilisation while the pod is not running."}
            </span>
          </p>
        )}
      </div>
    </div>
  );
}
