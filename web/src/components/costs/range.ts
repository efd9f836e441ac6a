/** The range the Costs page reports on: the last 7, 30 or 90 UTC days, today included. */

export const RANGES = [7, 30, 90] as const;
export type RangeDays = (typeof RANGES)[number];

const DAY_MS = 86_400_000;

/** Midnight UTC `days - 1` days before today, as RFC 3339: the start of a `days`-bucket window
 * that ends now (the server's default end). Buckets are UTC days, so the start is too. */
export function rangeStart(days: RangeDays, now: Date = new Date()): string {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(today - (days - 1) * DAY_MS).toISOString().replace(".000Z", "Z");
}

/** The CSV export of the same window (the server sends it as an attachment). */
export function exportUrl(start: string): string {
  return `/api/v1/costs/export.csv?${new URLSearchParams({ start }).toString()}`;
}

/** `Mar 5` for a UTC day bucket (the day as the server counts it, whatever the local zone). */
export function utcDay(iso: string, withWeekday = false): string {
  return new Date(iso).toLocaleDateString("en-US", {
    month: "short",
    day: "numeric",
    ...(withWeekday ? { weekday: "short" } : {}),
    timeZone: "UTC",
  });
}

/** A local short time such as `14:00`, for hourly rows. */
export function shortTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

export function num(value: string | number | null | undefined): number {
  const n = typeof value === "string" ? Number(value) : (value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/** `42%` of a total, `<1%` for a sliver, `0%` for nothing. */
export function share(part: number, total: number): { ratio: number; label: string } {
  if (total <= 0 || part <= 0) return { ratio: 0, label: "0%" };
  const ratio = Math.min(1, part / total);
  const pct = ratio * 100;
  return { ratio, label: pct < 1 ? "<1%" : `${Math.round(pct)}%` };
}

/** `Dec 1, 2026, 12:00 AM` in the local zone. */
export function shortDateTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
