/** A titled card of the Costs page; each section loads and fails on its own. */
import { useCallback, useEffect, useId, useRef, useState, type ReactNode } from "react";
import { Card } from "../ui";

export function Section({
  title,
  description,
  actions,
  children,
  testId,
  className = "",
}: {
  title: string;
  description?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  testId?: string;
  className?: string;
}) {
  const headingId = useId();
  return (
    <Card aria-labelledby={headingId} data-testid={testId} className={`min-w-0 p-4 sm:p-5 ${className}`}>
      <div className="mb-4 flex flex-wrap items-start justify-between gap-x-4 gap-y-2">
        <div className="min-w-0">
          <h2 id={headingId} className="text-base font-semibold text-white">
            {title}
          </h2>
          {description && <p className="mt-0.5 text-sm text-slate-400">{description}</p>}
        </div>
        {actions && <div className="flex flex-wrap items-center gap-2">{actions}</div>}
      </div>
      {children}
    </Card>
  );
}

/**
 * A table that scrolls sideways inside its card when it does not fit (a fallback: tables drop
 * columns on narrow screens first), with a fade at the edge that has more to show.
 */
export function TableScroll({ children, className = "" }: { children: ReactNode; className?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [more, setMore] = useState({ left: false, right: false });
  const measure = useCallback(() => {
    const el = box.current;
    if (!el) return;
    const left = el.scrollLeft > 1;
    const right = el.scrollLeft + el.clientWidth < el.scrollWidth - 1;
    setMore((m) => (m.left === left && m.right === right ? m : { left, right }));
  }, []);
  useEffect(() => {
    const el = box.current;
    measure();
    if (!el || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    if (el.firstElementChild) observer.observe(el.firstElementChild);
    return () => observer.disconnect();
  }, [measure]);
  const fade = "pointer-events-none absolute inset-y-0 w-8 from-slate-900 to-transparent";
  return (
    <div className="relative -mx-4 sm:-mx-5" data-scroll-more={more.right ? "right" : more.left ? "left" : undefined}>
      <div ref={box} onScroll={measure} className={`overflow-x-auto px-4 sm:px-5 ${className}`}>
        {children}
      </div>
      {more.left && <div aria-hidden className={`${fade} left-0 bg-gradient-to-r`} />}
      {more.right && (
        <div aria-hidden data-testid="table-scroll-hint" className={`${fade} right-0 flex items-center justify-end bg-gradient-to-l pr-1 text-slate-400`}>
          ›
        </div>
      )}
    </div>
  );
}

/** Classes of a column that only shows from the `sm` breakpoint (less important on a phone). */
export const WIDE_ONLY = "hidden sm:table-cell";

/** A thin bar showing a share (0..1) of a whole. */
export function ShareBar({ ratio, label, tone = "bg-sky-400" }: { ratio: number; label: string; tone?: string }) {
  return (
    <div className="flex items-center gap-2">
      <div className="h-1.5 w-14 shrink-0 overflow-hidden rounded-full bg-slate-800 sm:w-24" aria-hidden>
        <div className={`h-full rounded-full ${tone}`} style={{ width: `${Math.max(ratio > 0 ? 2 : 0, ratio * 100)}%` }} />
      </div>
      <span className="w-9 text-right text-xs tabular-nums text-slate-400">{label}</span>
    </div>
  );
}

export const TH = "whitespace-nowrap px-2 py-2 text-left text-xs font-medium uppercase tracking-wide text-slate-500 first:pl-0 last:pr-0";
export const TH_NUM = `${TH} text-right`;
export const TD = "whitespace-nowrap px-2 py-2 first:pl-0 last:pr-0";
export const TD_NUM = `${TD} text-right tabular-nums`;
