import { useEffect, useState } from "react";
import { ago, agoChangesIn } from "./format";

/** The current time in ms, updated every `intervalMs` while `active` (frozen otherwise). */
export function useNow(active: boolean, intervalMs = 1000): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [active, intervalMs]);
  return now;
}

/** `ago(iso)`, rendered again exactly when its words change (each second under a minute, ...). */
export function useAgo(iso: string): string {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const wait = agoChangesIn(iso, now);
    if (wait === null) return;
    const timer = setTimeout(() => setNow(Date.now()), wait);
    return () => clearTimeout(timer);
  }, [iso, now]);
  return ago(iso, now);
}
