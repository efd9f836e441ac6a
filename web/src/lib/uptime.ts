import type { PodView } from "../api/generated";

/** The most a pod's uptime is counted on past its last sighting: a browser clock far off the
 * server's, or a server that stopped seeing the pod, cannot make the figure run away. */
const MAX_SINCE_SEEN_S = 300;

/**
 * Seconds a pod has been up, now: its uptime as the server last saw it plus the time since,
 * while it runs. Null for a pod that is not running (a stopped pod's last uptime says nothing
 * about now) or whose uptime is unknown. The dashboard and the detail page both show this.
 */
export function liveUptime(pod: PodView | null, now: number): number | null {
  if (!pod || pod.uptime_s === null || pod.uptime_s === undefined) return null;
  if (pod.status !== "RUNNING") return null;
  const seen = Date.parse(pod.last_seen_at);
  const since = Number.isFinite(seen) ? Math.min(Math.max((now - seen) / 1000, 0), MAX_SINCE_SEEN_S) : 0;
  return pod.uptime_s + since;
}
