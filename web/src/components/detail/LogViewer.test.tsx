import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LogViewer } from "./LogViewer";
import { json, renderWithClient } from "./testing";

class FakeEventSource {
  static all: FakeEventSource[] = [];
  readonly listeners = new Map<string, ((event: MessageEvent<string>) => void)[]>();
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  readyState = 0;
  closed = false;
  constructor(readonly url: string) {
    FakeEventSource.all.push(this);
  }
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
  /** What the server sends for one line: `id: <id>`, `event: log`, `data: {ts, source, line}`. */
  emit(id: number, line: string) {
    if (this.closed) return;
    const event = new MessageEvent("log", {
      data: JSON.stringify({ ts: "2026-11-26T08:00:00+00:00", source: "container", line }),
      lastEventId: String(id),
    });
    for (const listener of this.listeners.get("log") ?? []) listener(event);
  }
}

const TAIL = [
  { id: 1, ts: "2026-11-26T08:00:00Z", source: "container", line: "[hangar] step comfyui" },
  { id: 2, ts: "2026-11-26T08:00:01Z", source: "container", line: "ERROR: pip install failed" },
  { id: 3, ts: "2026-11-26T08:00:02Z", source: "container", line: "<script>alert('pwned')</script>" },
];

let requested: string[] = [];
beforeEach(() => {
  requested = [];
  FakeEventSource.all = [];
  vi.stubGlobal("EventSource", FakeEventSource);
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      requested.push(url);
      return json({ deployment_id: "dep1", lines: TAIL });
    }),
  );
});
afterEach(() => vi.unstubAllGlobals());

const lineTexts = () => screen.queryAllByTestId("log-line").map((el) => el.textContent ?? "");

describe("LogViewer", () => {
  it("shows the last 500 lines of the log", async () => {
    renderWithClient(<LogViewer deploymentId="dep1" />);
    await waitFor(() => expect(screen.getAllByTestId("log-line")).toHaveLength(3));
    expect(requested).toEqual(["/api/v1/deployments/dep1/logs?lines=500"]);
    expect(screen.getByTestId("log-viewer").contains(screen.getAllByTestId("log-line")[0]!)).toBe(true);
  });

  it("filters and highlights lines with the search box, and renders markup as text", async () => {
    const user = userEvent.setup();
    renderWithClient(<LogViewer deploymentId="dep1" />);
    await waitFor(() => expect(screen.getAllByTestId("log-line")).toHaveLength(3));
    // The hostile line is text on screen, not an element.
    expect(screen.getByTestId("log-viewer").querySelector("script")).toBeNull();
    expect(lineTexts().some((t) => t.includes("<script>alert('pwned')</script>"))).toBe(true);

    await user.type(screen.getByLabelText("Search logs"), "error");
    await waitFor(() => expect(screen.getAllByTestId("log-line")).toHaveLength(1));
    expect(lineTexts()[0]).toContain("ERROR: pip install failed");
    expect(screen.getByTestId("log-viewer").querySelector("mark")?.textContent).toBe("ERROR");

    await user.clear(screen.getByLabelText("Search logs"));
    await user.type(screen.getByLabelText("Search logs"), "<script>");
    await waitFor(() => expect(screen.getAllByTestId("log-line")).toHaveLength(1));
    expect(screen.getByTestId("log-viewer").querySelector("mark")?.textContent).toBe("<script>");

    await user.clear(screen.getByLabelText("Search logs"));
    await user.type(screen.getByLabelText("Search logs"), "no such text");
    await waitFor(() => expect(screen.queryAllByTestId("log-line")).toHaveLength(0));
    expect(screen.getByText(/No line matches/)).toBeTruthy();
  });

  it("shows agent progress lines in words with a setup tag, searchable by both words and raw JSON", async () => {
    const user = userEvent.setup();
    const progress = [
      { id: 1, ts: "2026-11-26T08:00:00Z", source: "container", line: "[hangar] step models" },
      {
        id: 2,
        ts: "2026-11-26T08:00:01Z",
        source: "container",
        line: '##hangar-progress## {"v":1,"step":"models","status":"running","bytes_done":1200000000,"bytes_total":7300000000,"item":"a.safetensors","time":"2026-11-26T08:00:01.000Z"}',
      },
      { id: 3, ts: "2026-11-26T08:00:02Z", source: "container", line: '##hangar-progress## {"v":1,"step":"start","status":"done","message":"ComfyUI answered after 2.4s"}' },
      { id: 4, ts: "2026-11-26T08:00:03Z", source: "container", line: '##hangar-progress## {"v":1,"step":' },
    ];
    vi.stubGlobal("fetch", vi.fn(async () => json({ deployment_id: "dep1", lines: progress })));
    renderWithClient(<LogViewer deploymentId="dep1" />);
    await waitFor(() => expect(screen.getAllByTestId("log-line")).toHaveLength(4));
    const [plain, models, start, broken] = screen.getAllByTestId("log-line");
    expect(plain!.textContent).not.toContain("setup");
    expect(models!.textContent).toContain("setupmodels · running · a.safetensors · 1.2 GB of 7.3 GB");
    expect(models!.textContent).not.toContain("##hangar-progress##");
    expect(start!.textContent).toContain("start · done · ComfyUI answered after 2.4s");
    expect(start!.dataset.progress).toBe("");
    // Not valid JSON: shown as it came.
    expect(broken!.textContent).toContain('##hangar-progress## {"v":1,"step":');
    expect(broken!.dataset.progress).toBeUndefined();

    await user.type(screen.getByLabelText("Search logs"), "setup · models");
    await waitFor(() => expect(screen.getAllByTestId("log-line")).toHaveLength(1));
    expect(lineTexts()[0]).toContain("a.safetensors");
    await user.clear(screen.getByLabelText("Search logs"));
    await user.type(screen.getByLabelText("Search logs"), '"bytes_total":7300000000');
    await waitFor(() => expect(screen.getAllByTestId("log-line")).toHaveLength(1));
    expect(lineTexts()[0]).toContain("1.2 GB of 7.3 GB");
    await user.clear(screen.getByLabelText("Search logs"));
    await user.type(screen.getByLabelText("Search logs"), "7.3 gb");
    await waitFor(() => expect(screen.getAllByTestId("log-line")).toHaveLength(1));
    expect(screen.getByTestId("log-viewer").querySelector("mark")?.textContent).toBe("7.3 GB");
  });

  it("streams new lines while it is open, whether Follow is on or off", async () => {
    const user = userEvent.setup();
    renderWithClient(<LogViewer deploymentId="dep1" />);
    await waitFor(() => expect(screen.getAllByTestId("log-line")).toHaveLength(3));
    // Open at once, with nothing clicked: new lines must show while the page is open.
    expect(FakeEventSource.all).toHaveLength(1);
    const source = FakeEventSource.all[0]!;
    expect(source.url).toMatch(/^\/api\/v1\/deployments\/dep1\/logs\?follow=1/);
    const follow = screen.getByRole("button", { name: "Follow" });
    expect(follow.getAttribute("aria-pressed")).toBe("true");

    // The stream first replays recent lines (already shown), then new ones.
    act(() => {
      source.emit(2, "ERROR: pip install failed");
      source.emit(3, "<script>alert('pwned')</script>");
      source.emit(4, "[hangar] step models");
      source.emit(5, "downloading sd_xl_base_1.0.safetensors");
    });
    await waitFor(() => expect(screen.getAllByTestId("log-line")).toHaveLength(5));
    expect(lineTexts()[4]).toContain("downloading sd_xl_base_1.0.safetensors");

    // Follow off only stops the scrolling: the stream stays, lines keep coming.
    await user.click(follow);
    expect(follow.getAttribute("aria-pressed")).toBe("false");
    expect(source.closed).toBe(false);
    expect(FakeEventSource.all).toHaveLength(1);
    act(() => source.emit(6, "written while not following"));
    await waitFor(() => expect(screen.getAllByTestId("log-line")).toHaveLength(6));
    expect(lineTexts()[5]).toContain("written while not following");
  });

  it("opens no stream for a terminated deployment, and closes it when it goes away", async () => {
    const ended = renderWithClient(<LogViewer deploymentId="dep1" ended />);
    await waitFor(() => expect(screen.getAllByTestId("log-line")).toHaveLength(3));
    expect(FakeEventSource.all).toHaveLength(0);
    ended.unmount();
    const { unmount } = renderWithClient(<LogViewer deploymentId="dep1" />);
    const source = FakeEventSource.all[0]!;
    unmount();
    expect(source.closed).toBe(true);
  });

  it("keeps only the newest lines when there are more than it holds", async () => {
    renderWithClient(<LogViewer deploymentId="dep1" maxLines={50} />);
    await waitFor(() => expect(screen.getAllByTestId("log-line")).toHaveLength(3));
    const source = FakeEventSource.all[0]!;
    act(() => {
      for (let id = 4; id <= 100; id += 1) source.emit(id, `line ${id}`);
    });
    await waitFor(() => expect(screen.getAllByTestId("log-line")).toHaveLength(50));
    expect(lineTexts()[0]).toContain("line 51");
    expect(lineTexts()[49]).toContain("line 100");
    expect(screen.getByText(/the newest 50 are kept/)).toBeTruthy();
  });
});
