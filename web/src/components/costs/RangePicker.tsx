/** The 7 / 30 / 90 day switch and the CSV export of the same window. */
import { RANGES, exportUrl, type RangeDays } from "./range";

export function RangePicker({ days, onChange }: { days: RangeDays; onChange: (days: RangeDays) => void }) {
  return (
    <div role="group" aria-label="Range" className="inline-flex rounded-md bg-slate-900 p-0.5 ring-1 ring-slate-800">
      {RANGES.map((option) => (
        <button
          key={option}
          type="button"
          aria-pressed={option === days}
          onClick={() => onChange(option)}
          className={`rounded px-3 py-1.5 text-sm font-medium tabular-nums focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-sky-400 ${
            option === days ? "bg-slate-700 text-white" : "text-slate-400 hover:text-white"
          }`}
        >
          {option} days
        </button>
      ))}
    </div>
  );
}

export function ExportLink({ start, days }: { start: string; days: RangeDays }) {
  return (
    <a
      href={exportUrl(start)}
      download
      title={`Spend of the last ${days} days as CSV: one row per UTC day and deployment`}
      className="inline-flex items-center gap-1.5 rounded-md bg-slate-800 px-3.5 py-2 text-sm font-medium text-slate-100 ring-1 ring-inset ring-slate-700 hover:bg-slate-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-400"
    >
      <svg viewBox="0 0 16 16" className="h-4 w-4" aria-hidden fill="none" stroke="currentColor" strokeWidth="1.5">
        <path d="M8 2v8m0 0L5 7m3 3 3-3M3 12.5h10" strokeLinecap="round" strokeLinejoin="round" />
      </svg>
      Export CSV
    </a>
  );
}
