/** Utilisation samples taken from the pod each time the deployment is read, ten minutes kept. */
import { useEffect, useState } from "react";
import type { PodView } from "../../api/generated";

export const WINDOW_S = 600;

export interface UtilSample {
  /** Unix seconds (the browser's clock, when the sample was read) */
  t: number;
  gpu: number | null;
  gpuMemory: number | null;
  cpu: number | null;
  memory: number | null;
}

function average(values: number[] | undefined): number | null {
  if (!values || values.length === 0) return null;
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

function percent(value: number | null | undefined): number | null {
  return value === null || value === undefined || !Number.isFinite(value) ? null : value;
}

/** The pod's current numbers (GPU ones averaged over its GPUs), or null if it reports none. */
export function sampleOf(pod: PodView | null | undefined, t: number): UtilSample | null {
  if (!pod || pod.status !== "RUNNING") return null;
  const sample = {
    t,
    gpu: average(pod.gpu_util),
    gpuMemory: average(pod.gpu_memory_util),
    cpu: percent(pod.cpu_util),
    memory: percent(pod.memory_util),
  };
  return sample.gpu === null && sample.gpuMemory === null && sample.cpu === null && sample.memory === null ? null : sample;
}

/** `samples` plus `next`, one per second at most (a newer read replaces one of the same second), last `WINDOW_S`. */
export function addSample(samples: UtilSample[], next: UtilSample): UtilSample[] {
  const kept = samples.filter((s) => s.t > next.t - WINDOW_S && s.t < next.t);
  kept.push(next);
  return kept;
}

/** Sample `pod` whenever the query that holds it updates (`updatedAt` changes). */
export function useUtilSamples(pod: PodView | null | undefined, updatedAt: number): UtilSample[] {
  const [samples, setSamples] = useState<UtilSample[]>([]);
  useEffect(() => {
    const sample = sampleOf(pod, Math.floor((updatedAt || Date.now()) / 1000));
    if (sample) setSamples((current) => addSample(current, sample));
    // Only a new read of the query is a new sample; `pod` comes with it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [updatedAt]);
  return samples;
}
