/** Formatting for money, durations, sizes and times: one way everywhere in the dashboard. */

/** US dollars from the API's decimal strings. Under a dollar keeps 3 decimals so cents move visibly. */
export function usd(value: string | number | null | undefined, { precise = false } = {}): string {
  const n = typeof value === "string" ? Number(value) : (value ?? 0);
  if (!Number.isFinite(n)) return "—";
  const digits = precise || Math.abs(n) < 1 ? 3 : 2;
  return `$${n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })}`;
}

/** A rate such as `$0.690/h`. */
export function perHour(value: string | number | null | undefined): string {
  return `${usd(value, { precise: true })}/h`;
}

/** `3d 4h`, `2h 05m`, `4m 09s`, `12s`. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "—";
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, "0")}s`;
  return `${sec}s`;
}

/** `1.5 GB`, `320 MB` (decimal units, as model hosts report them). */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(value >= 100 || unit === 0 ? 0 : 1)} ${units[unit]}`;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const JUST_NOW = 10 * SECOND;

/**
 * How long ago `iso` was, in the one rule the dashboard uses: `just now` under 10 s (or a
 * moment in the future: clocks differ a little), then whole seconds, minutes, hours or days
 * elapsed, counted down (`1 min ago` from 60 s to 119 s), then the date after a week.
 */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "—";
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return "—";
  if (ms < JUST_NOW) return "just now";
  if (ms < MINUTE) return `${Math.floor(ms / SECOND)} s ago`;
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)} min ago`;
  if (ms < DAY) return `${Math.floor(ms / HOUR)} h ago`;
  if (ms < WEEK) return `${Math.floor(ms / DAY)} d ago`;
  return new Date(iso).toLocaleDateString();
}

/** Milliseconds until `ago(iso)` reads differently (null when it never will: a date). */
export function agoChangesIn(iso: string, now = Date.now()): number | null {
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms) || ms >= WEEK) return null;
  if (ms < JUST_NOW) return JUST_NOW - Math.max(ms, 0);
  const unit = ms < MINUTE ? SECOND : ms < HOUR ? MINUTE : ms < DAY ? HOUR : DAY;
  return unit - (ms % unit);
}

/** A local date and time, to the second. */
export function dateTime(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : "—";
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/**
 * A local time as 24-hour `HH:MM:SS`, the one way the detail page shows times. `date` adds the
 * day in front (`Nov 25, 14:05:09`; with the year when it is not `now`'s year): `"always"`, or
 * `"unless-today"` (only when the day is not `now`'s day), or `"never"` (the default).
 */
export function clockTime(
  value: string | number | Date | null | undefined,
  { date = "never", now = Date.now() }: { date?: "never" | "unless-today" | "always"; now?: number } = {},
): string {
  if (value === null || value === undefined) return "—";
  const at = value instanceof Date ? value : new Date(typeof value === "string" ? Date.parse(value) : value);
  if (!Number.isFinite(at.getTime())) return "—";
  const time = `${pad2(at.getHours())}:${pad2(at.getMinutes())}:${pad2(at.getSeconds())}`;
  const today = new Date(now);
  const sameDay =
    at.getFullYear() === today.getFullYear() && at.getMonth() === today.getMonth() && at.getDate() === today.getDate();
  if (date === "never" || (date === "unless-today" && sameDay)) return time;
  const day = at.toLocaleDateString("en-US", {
    month: "short",
    day: "numeric",
    year: at.getFullYear() === today.getFullYear() ? undefined : "numeric",
  });
  return `${day}, ${time}`;
}
