import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { DeploymentView, IdleView } from "../api/generated";
import { idleLine, minutes, policyLine } from "../lib/idle";
import { deployment } from "../test/fixtures";
import { json, renderWithClient } from "./detail/testing";
import { IdleClockLine, KeepAwake } from "./IdleClock";

const T = (hhmm: string) => Date.parse(`2026-11-26T${hhmm}:00Z`);

function idle(overrides: Partial<IdleView> = {}): IdleView {
  return { ...deployment().idle, ...overrides };
}

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("idleLine", () => {
  it("counts idle time up and the stop down from the API's moments", () => {
    expect(idleLine(idle(), "ready", T("10:12"))).toEqual({ text: "idle for 12 min, stops in 18 min", tone: "calm" });
    expect(idleLine(idle(), "ready", T("10:26"))?.tone).toBe("warn"); // past warn_at
    expect(idleLine(idle({ warned_at: "2026-11-26T10:25:00Z" }), "ready", T("10:29"))).toEqual({
      text: "idle for 29 min, stops in 1 min",
      tone: "warn",
    });
    expect(idleLine(idle(), "ready", T("10:31"))?.text).toBe("idle for 31 min, stopping now");
    expect(idleLine(idle({ action: "terminate" }), "ready", T("10:12"))?.text).toBe("idle for 12 min, terminates in 18 min");
  });

  it("says what keeps it awake: a signal (an unreadable one too) or a keep-awake", () => {
    const queued = idle({ activity: [{ source: "comfyui", active: true, reason: "2 prompt(s) running or queued", unreadable: false }] });
    expect(idleLine(queued, "ready", T("10:12"))).toEqual({ text: "in use: 2 prompt(s) running or queued", tone: "busy" });
    const blind = idle({ activity: [{ source: "comfyui", active: true, reason: "cannot read ComfyUI's queue: timed out", unreadable: true }] });
    expect(idleLine(blind, "ready", T("10:12"))?.text).toBe("in use: cannot read ComfyUI's queue: timed out (counted as in use)");
    const awake = idle({ keep_awake_until: "2026-11-26T12:00:00Z", acts_at: "2026-11-26T12:30:00Z" });
    expect(idleLine(awake, "ready", T("10:30"))).toEqual({ text: "kept awake until 12:00 (90 min left)", tone: "busy" });
  });

  it("shows the terminate-after-stopped timer, the off switch, and nothing while setting up", () => {
    const stopped = idle({
      watching: false,
      stopped_since: "2026-11-26T10:00:00Z",
      acts_at: "2026-11-29T10:00:00Z",
      action: "terminate",
    });
    expect(idleLine(stopped, "stopped", T("12:00"))?.text).toBe("stopped for 2 h 00 min, terminates in 2 d 22 h");
    expect(idleLine(idle({ policy: { ...idle().policy, mode: "off" } }), "ready", T("10:12"))?.text).toBe("Idle auto-stop is off");
    expect(idleLine(idle({ watching: false }), "installing", T("10:12"))).toBeNull();
  });

  it("says the policy and where it comes from", () => {
    expect(policyLine(idle())).toBe("stops after 30 min idle (5 min warning) · server default");
    const own = idle({ policy: { mode: "terminate", idle_minutes: 120, warn_minutes: 10, terminate_after_stopped_days: null, source: "deployment" } });
    expect(policyLine(own)).toBe("terminates after 2 h 00 min idle (10 min warning) · set for this deployment");
  });

  it("formats minutes", () => {
    expect([minutes(30_000), minutes(61_000), minutes(125 * 60_000), minutes(50 * 3_600_000)]).toEqual(["<1 min", "1 min", "2 h 05 min", "2 d 2 h"]);
  });
});

describe("IdleClockLine", () => {
  it("ticks down without asking the server again", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: false });
    vi.setSystemTime(T("10:12"));
    const fetch = vi.fn();
    vi.stubGlobal("fetch", fetch);
    renderWithClient(<IdleClockLine dep={deployment()} />);
    expect(screen.getByTestId("idle-clock").textContent).toBe("idle for 12 min, stops in 18 min");
    await act(async () => {
      vi.advanceTimersByTime(6 * 60_000);
    });
    expect(screen.getByTestId("idle-clock").textContent).toBe("idle for 18 min, stops in 12 min");
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe("KeepAwake", () => {
  it("posts the chosen time and shows the answer's clock", async () => {
    const until = "2026-11-26T14:12:00Z";
    const calls: { url: string; body: unknown }[] = [];
    const kept: DeploymentView = deployment({ idle: idle({ keep_awake_until: until, acts_at: "2026-11-26T14:42:00Z" }) });
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        calls.push({ url, body: JSON.parse(String(init?.body)) });
        return json(kept);
      }),
    );
    renderWithClient(<KeepAwake dep={deployment()} />);
    await userEvent.selectOptions(screen.getByLabelText("Keep awake for"), "4 h");
    await userEvent.click(screen.getByRole("button", { name: "Keep awake" }));
    await waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]).toEqual({ url: "/api/v1/deployments/dep1/keep-awake", body: { minutes: 240 } });
  });

  it("is not offered while the pod is not ready", () => {
    renderWithClient(<KeepAwake dep={deployment({ state: "stopped" })} />);
    expect(screen.queryByTestId("keep-awake")).toBeNull();
  });
});
