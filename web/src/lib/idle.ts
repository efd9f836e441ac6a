import type { IdleView } from "../api/generated";

/** How the idle clock reads now: `idle for 12 min, stops in 18 min`, computed from the API's
 * moments and the browser's clock (no request per tick). `tone` says how urgent it is. */
export interface IdleLine {
  text: string;
  tone: "calm" | "warn" | "busy" | "off";
}

const MINUTE = 60_000;

/** `12 min`, `2 h 05 min`, `3 d 4 h`; under a minute `<1 min`. */
export function minutes(ms: number): string {
  if (!Number.isFinite(ms) || ms < MINUTE) return "<1 min";
  const total = Math.floor(ms / MINUTE);
  if (total < 120) return `${total} min`;
  const hours = Math.floor(total / 60);
  if (hours < 48) return `${hours} h ${String(total % 60).padStart(2, "0")} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

function at(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

function clockTime(ms: number): string {
  return new Date(ms).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
}

/** The idle clock's line for a deployment in `state`, or null when there is nothing to say. */
export function idleLine(idle: IdleView | undefined, state: string, now: number): IdleLine | null {
  if (!idle) return null;
  const verb = idle.action === "terminate" ? "terminates" : "stops";
  const actsAt = at(idle.acts_at);
  if (idle.policy.mode === "off") return state === "ready" ? { text: "Idle auto-stop is off", tone: "off" } : null;
  if (state === "stopped") {
    const since = at(idle.stopped_since);
    if (actsAt === null || since === null) return null;
    const left = actsAt - now;
    return {
      text: `stopped for ${minutes(now - since)}, ${left > 0 ? `terminates in ${minutes(left)}` : "terminating now"}`,
      tone: idle.warned_at ? "warn" : "calm",
    };
  }
  if (!idle.watching) return null;
  const awakeUntil = at(idle.keep_awake_until);
  if (awakeUntil !== null && awakeUntil > now) {
    return { text: `kept awake until ${clockTime(awakeUntil)} (${minutes(awakeUntil - now)} left)`, tone: "busy" };
  }
  const active = idle.activity.filter((a) => a.active);
  if (active.length > 0) {
    const reason = active.map((a) => (a.unreadable ? `${a.reason} (counted as in use)` : a.reason)).join("; ");
    return { text: `in use: ${reason}`, tone: "busy" };
  }
  const last = at(idle.last_activity_at);
  if (last === null || actsAt === null) return { text: "idle clock starts at the guard's next look", tone: "calm" };
  const left = actsAt - now;
  return {
    text: `idle for ${minutes(now - last)}, ${left > 0 ? `${verb} in ${minutes(left)}` : `${verb === "stops" ? "stopping" : "terminating"} now`}`,
    tone: idle.warned_at || (at(idle.warn_at) ?? Infinity) <= now ? "warn" : "calm",
  };
}

/** Keep-awake choices the dashboard offers (minutes); the API takes 1 to 1440. */
export const KEEP_AWAKE_CHOICES: { label: string; minutes: number }[] = [
  { label: "30 min", minutes: 30 },
  { label: "1 h", minutes: 60 },
  { label: "2 h", minutes: 120 },
  { label: "4 h", minutes: 240 },
  { label: "8 h", minutes: 480 },
];

/** The policy in words: `stops after 30 min idle (5 min warning) · server default`. */
export function policyLine(idle: IdleView): string {
  const p = idle.policy;
  if (p.mode === "off") return `idle auto-stop off · ${p.source === "default" ? "server default" : "set for this deployment"}`;
  const verb = p.mode === "terminate" ? "terminates" : "stops";
  const stopped = p.terminate_after_stopped_days ? ` · terminates after ${p.terminate_after_stopped_days} d stopped` : "";
  return `${verb} after ${minutes(p.idle_minutes * MINUTE)} idle (${minutes(p.warn_minutes * MINUTE)} warning)${stopped} · ${
    p.source === "default" ? "server default" : "set for this deployment"
  }`;
}
