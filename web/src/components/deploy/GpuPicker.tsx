/**
 * The GPU picker: search, tier chips, "in stock only", minimum VRAM and a sort, above a
 * scrollable radio group of GPU rows (arrow keys move and select, as native radios do).
 */
import { useMemo, useRef, useState, type KeyboardEvent } from "react";
import type { GpuOffer, Tier } from "../../api/generated";
import { perHour } from "../../lib/format";
import { Button, EmptyState, ErrorState, Skeleton } from "../ui";
import { describe, FieldErrorText, inputClass } from "./fields";
import { maxCountIn, priceIn, type Cloud } from "./form";

export type SortKey = "price" | "vram" | "name";
export interface GpuFilters {
  search: string;
  tiers: Tier[];
  inStockOnly: boolean;
  minVram: number;
  sort: SortKey;
}
export const DEFAULT_FILTERS: GpuFilters = { search: "", tiers: [], inStockOnly: false, minVram: 0, sort: "price" };

const TIERS: Tier[] = ["budget", "mid", "high", "premium"];
const VRAM_STEPS = [0, 12, 16, 24, 32, 48, 80];
const CLOUD_NAME: Record<Cloud, string> = { SECURE: "Secure", COMMUNITY: "Community" };

/** Offered in this cloud at all (a price and a machine size). */
export function offered(gpu: GpuOffer, cloud: Cloud): boolean {
  return priceIn(gpu, cloud) !== null && maxCountIn(gpu, cloud) > 0;
}
export function inStock(gpu: GpuOffer, cloud: Cloud): boolean {
  return offered(gpu, cloud) && gpu.availability !== "NONE";
}

/** The rows shown for these filters, sorted; GPUs not offered in the cloud always sort last. */
export function filterGpus(gpus: GpuOffer[], filters: GpuFilters, cloud: Cloud): GpuOffer[] {
  const words = filters.search.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const rows = gpus.filter((gpu) => {
    const text = `${gpu.name} ${gpu.id} ${gpu.manufacturer}`.toLowerCase();
    if (!words.every((w) => text.includes(w))) return false;
    if (filters.tiers.length && !filters.tiers.includes(gpu.tier)) return false;
    if (filters.inStockOnly && !inStock(gpu, cloud)) return false;
    return gpu.vram_gb >= filters.minVram;
  });
  const price = (gpu: GpuOffer) => Number(priceIn(gpu, cloud) ?? Infinity);
  const byName = (a: GpuOffer, b: GpuOffer) => a.name.localeCompare(b.name, "en", { numeric: true });
  const compare: Record<SortKey, (a: GpuOffer, b: GpuOffer) => number> = {
    price: (a, b) => price(a) - price(b) || b.vram_gb - a.vram_gb || byName(a, b),
    vram: (a, b) => b.vram_gb - a.vram_gb || price(a) - price(b) || byName(a, b),
    name: byName,
  };
  return rows.sort((a, b) => Number(!offered(a, cloud)) - Number(!offered(b, cloud)) || compare[filters.sort](a, b));
}

const TIER_STYLE: Record<Tier, string> = {
  budget: "bg-emerald-950 text-emerald-300 ring-emerald-900",
  mid: "bg-sky-950 text-sky-300 ring-sky-900",
  high: "bg-violet-950 text-violet-300 ring-violet-900",
  premium: "bg-amber-950 text-amber-300 ring-amber-900",
};

function TierBadge({ tier }: { tier: Tier }) {
  return <span className={`shrink-0 rounded px-1.5 py-px text-[11px] font-medium capitalize ring-1 ring-inset ${TIER_STYLE[tier]}`}>{tier}</span>;
}

function Stock({ gpu, cloud }: { gpu: GpuOffer; cloud: Cloud }) {
  if (!offered(gpu, cloud)) return <span className="text-slate-500">Not in {CLOUD_NAME[cloud]}</span>;
  if (gpu.availability === "NONE") return <span className="text-slate-500">Out of stock</span>;
  if (gpu.availability === "LOW") return <span className="text-amber-300">Low stock</span>;
  return <span className="text-emerald-300">In stock</span>;
}

// One grid for rows, skeleton rows and the header: 2 columns on a phone, 5 from `sm`.
const ROW_GRID = "grid grid-cols-[minmax(0,1fr)_auto] items-center gap-x-3 gap-y-1 px-3 py-2.5 sm:grid-cols-[minmax(0,1fr)_4.5rem_6.5rem_6.5rem_6.5rem] sm:gap-y-0";

function PriceCell({ label, value, current }: { label: string; value: string | null; current: boolean }) {
  return (
    <span className={`tabular-nums sm:text-right ${current ? "text-slate-100" : "text-slate-500"}`}>
      <span className="sm:sr-only">{label} </span>
      {value === null ? "—" : perHour(value)}
    </span>
  );
}

function GpuRow({ gpu, cloud, checked, focusable, onSelect }: { gpu: GpuOffer; cloud: Cloud; checked: boolean; focusable: boolean; onSelect: () => void }) {
  const dim = !inStock(gpu, cloud);
  return (
    <button
      type="button"
      role="radio"
      aria-checked={checked}
      tabIndex={focusable ? 0 : -1}
      data-testid="gpu-option"
      data-gpu-id={gpu.id}
      onClick={onSelect}
      className={`${ROW_GRID} w-full border-b border-slate-800 text-left text-sm last:border-b-0 focus-visible:relative focus-visible:z-10 focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-sky-400 ${
        checked ? "bg-sky-950/60" : "hover:bg-slate-800/60"
      }`}
    >
      <span className="flex min-w-0 items-center gap-2">
        <span
          aria-hidden
          className={`grid h-4 w-4 shrink-0 place-items-center rounded-full ring-1 ${checked ? "ring-sky-400" : "ring-slate-600"}`}
        >
          {checked && <span className="h-2 w-2 rounded-full bg-sky-400" />}
        </span>
        <span className={`truncate font-medium ${dim ? "text-slate-400" : "text-white"}`}>{gpu.name}</span>
        <TierBadge tier={gpu.tier} />
      </span>
      <span className="text-right tabular-nums text-slate-300">
        {gpu.vram_gb} GB<span className="sr-only"> VRAM</span>
      </span>
      <span className="flex gap-3 pl-6 text-xs sm:contents sm:text-sm">
        <PriceCell label="Secure" value={gpu.price_per_hour.secure} current={cloud === "SECURE"} />
        <PriceCell label="Community" value={gpu.price_per_hour.community} current={cloud === "COMMUNITY"} />
      </span>
      <span className="text-right text-xs sm:text-sm">
        <Stock gpu={gpu} cloud={cloud} />
      </span>
    </button>
  );
}

function SkeletonRows() {
  return (
    <div aria-hidden data-testid="gpu-skeleton">
      {Array.from({ length: 8 }, (_, i) => (
        <div key={i} className={`${ROW_GRID} border-b border-slate-800 text-sm last:border-b-0`}>
          <span className="flex items-center gap-2">
            <Skeleton className="h-4 w-4 rounded-full" />
            <Skeleton className="h-5 w-32" />
          </span>
          <Skeleton className="ml-auto h-5 w-12" />
          <span className="flex gap-3 pl-6 sm:contents">
            <Skeleton className="h-4 w-20 sm:ml-auto sm:h-5" />
            <Skeleton className="h-4 w-20 sm:ml-auto sm:h-5" />
          </span>
          <Skeleton className="ml-auto h-4 w-16 sm:h-5" />
        </div>
      ))}
    </div>
  );
}

export interface GpuPickerProps {
  gpus: GpuOffer[] | undefined;
  loading: boolean;
  updating?: boolean;
  loadError: unknown;
  onRetry: () => void;
  cloud: Cloud;
  selectedId: string | null;
  onSelect: (id: string) => void;
  error?: string;
}

export function GpuPicker({ gpus, loading, updating = false, loadError, onRetry, cloud, selectedId, onSelect, error }: GpuPickerProps) {
  const [filters, setFilters] = useState<GpuFilters>(DEFAULT_FILTERS);
  const list = useRef<HTMLDivElement>(null);
  const rows = useMemo(() => (gpus ? filterGpus(gpus, filters, cloud) : []), [gpus, filters, cloud]);
  const selected = gpus?.find((g) => g.id === selectedId);
  const selectedHidden = selected && !rows.includes(selected);
  const set = (patch: Partial<GpuFilters>) => setFilters((f) => ({ ...f, ...patch }));

  const focusIndex = Math.max(0, rows.findIndex((g) => g.id === selectedId));
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const moves: Record<string, (i: number) => number> = {
      ArrowDown: (i) => i + 1,
      ArrowRight: (i) => i + 1,
      ArrowUp: (i) => i - 1,
      ArrowLeft: (i) => i - 1,
      Home: () => 0,
      End: () => rows.length - 1,
    };
    const move = moves[event.key];
    if (!move || !rows.length) return;
    event.preventDefault();
    const current = rows.findIndex((g) => g.id === (document.activeElement as HTMLElement | null)?.dataset.gpuId);
    const next = Math.min(rows.length - 1, Math.max(0, move(current < 0 ? focusIndex : current)));
    const gpu = rows[next];
    if (!gpu) return;
    onSelect(gpu.id);
    list.current?.querySelector<HTMLElement>(`[data-gpu-id="${CSS.escape(gpu.id)}"]`)?.focus();
  };

  return (
    <div>
      <div className="flex flex-col gap-3">
        <div className="flex flex-col gap-3 sm:flex-row">
          <div className="flex-1">
            <label htmlFor="gpu-search" className="sr-only">
              Search GPUs
            </label>
            <input
              id="gpu-search"
              type="search"
              placeholder="Search GPUs (e.g. 4090, A100, H100)"
              value={filters.search}
              onChange={(e) => set({ search: e.target.value })}
              className={inputClass}
              autoComplete="off"
            />
          </div>
          <div className="flex gap-3">
            <div className="flex-1 sm:w-36 sm:flex-none">
              <label htmlFor="gpu-min-vram" className="sr-only">
                Min VRAM
              </label>
              <select id="gpu-min-vram" value={filters.minVram} onChange={(e) => set({ minVram: Number(e.target.value) })} className={inputClass}>
                {VRAM_STEPS.map((v) => (
                  <option key={v} value={v}>
                    {v === 0 ? "Any VRAM" : `≥ ${v} GB VRAM`}
                  </option>
                ))}
              </select>
            </div>
            <div className="flex-1 sm:w-44 sm:flex-none">
              <label htmlFor="gpu-sort" className="sr-only">
                Sort GPUs by
              </label>
              <select id="gpu-sort" value={filters.sort} onChange={(e) => set({ sort: e.target.value as SortKey })} className={inputClass}>
                <option value="price">Price: low to high</option>
                <option value="vram">VRAM: high to low</option>
                <option value="name">Name: A to Z</option>
              </select>
            </div>
          </div>
        </div>
        <div className="flex flex-wrap items-center gap-2">
          <div role="group" aria-label="Tiers" className="flex flex-wrap gap-1.5">
            {TIERS.map((tier) => {
              const on = filters.tiers.includes(tier);
              return (
                <button
                  key={tier}
                  type="button"
                  aria-pressed={on}
                  onClick={() => set({ tiers: on ? filters.tiers.filter((t) => t !== tier) : [...filters.tiers, tier] })}
                  className={`rounded-full px-3 py-1 text-xs font-medium capitalize ring-1 ring-inset focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-400 ${
                    on ? "bg-sky-500 text-slate-950 ring-sky-500" : "bg-slate-950 text-slate-300 ring-slate-700 hover:ring-slate-500"
                  }`}
                >
                  {tier}
                </button>
              );
            })}
          </div>
          <label className="ml-1 inline-flex cursor-pointer items-center gap-2 text-sm text-slate-300">
            <input
              type="checkbox"
              checked={filters.inStockOnly}
              onChange={(e) => set({ inStockOnly: e.target.checked })}
              className="h-4 w-4 accent-sky-500"
            />
            In stock only
          </label>
          <span className="ml-auto text-xs text-slate-500" aria-live="polite">
            {gpus ? `${rows.length} of ${gpus.length} GPUs${updating ? " · updating…" : ""}` : ""}
          </span>
        </div>
      </div>

      <div className={`mt-3 overflow-hidden rounded-lg ring-1 ${error ? "ring-rose-500" : "ring-slate-800"}`}>
        <div
          aria-hidden
          className={`${ROW_GRID} hidden border-b border-slate-800 bg-slate-950/60 text-xs uppercase tracking-wide text-slate-500 sm:grid`}
        >
          <span className="pl-6">GPU</span>
          <span className="text-right">VRAM</span>
          <span className="text-right">Secure</span>
          <span className="text-right">Community</span>
          <span className="text-right">Stock</span>
        </div>
        <div className="max-h-[24rem] overflow-y-auto overscroll-contain sm:max-h-[26rem]">
          {loading ? (
            <SkeletonRows />
          ) : loadError && !gpus ? (
            <div className="p-4">
              <ErrorState title="Could not load the GPU list" error={loadError} onRetry={onRetry} />
            </div>
          ) : rows.length === 0 ? (
            <div className="p-4">
              <EmptyState title={gpus?.length ? "No GPU matches these filters" : "The catalog has no GPUs"}>
                {gpus?.length ? (
                  <Button size="sm" onClick={() => setFilters({ ...DEFAULT_FILTERS, sort: filters.sort })}>
                    Clear filters
                  </Button>
                ) : null}
              </EmptyState>
            </div>
          ) : (
            <div
              ref={list}
              role="radiogroup"
              aria-label="GPU"
              aria-required="true"
              {...describe("gpu.id", error)}
              onKeyDown={onKeyDown}
            >
              {rows.map((gpu, i) => (
                <GpuRow
                  key={gpu.id}
                  gpu={gpu}
                  cloud={cloud}
                  checked={gpu.id === selectedId}
                  focusable={i === focusIndex}
                  onSelect={() => onSelect(gpu.id)}
                />
              ))}
            </div>
          )}
        </div>
      </div>
      {selectedHidden && (
        <p className="mt-2 text-xs text-slate-400">
          Selected: <span className="text-slate-200">{selected.name}</span> (hidden by the filters).
        </p>
      )}
      <FieldErrorText field="gpu.id" message={error} />
    </div>
  );
}
