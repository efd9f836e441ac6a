"""Dashboard weight and first load: JavaScript size (gzip) and time to interactive.

    uv run python -m bench.web_load [--deployments 100] [--loads 15]

1. Sizes every file the built dashboard ships (`src/comfyhangar/server/static/web`), raw and
   gzip (level 6, what a reverse proxy typically uses; Vite prints the same figure).
2. Seeds `--deployments` deployments directly into a fresh database, starts a real server
   process (embedded emulator), and loads `/` in headless Chromium (Debian's, at
   /usr/bin/chromium) `--loads` times, each in a fresh browser context (cold HTTP cache).
   "Interactive" is the moment every deployment card is rendered and the live-events
   connection reports `open`; it is read from `performance.now()` in the page, so it counts
   from the start of navigation (request, HTML, JS parse, API calls, render).

Targets (issue 6): JavaScript at most 250 KB gzip; first load under 1.5 s on loopback.
Prints a table and appends it to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from bench._common import (
    Row,
    backend,
    data_directory,
    database_url,
    machine,
    record,
    seed_deployments,
    server_process,
)

BUILD = Path(__file__).resolve().parents[1] / "src" / "comfyhangar" / "server" / "static" / "web"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
JS_BUDGET_KB = 250.0
LOAD_TARGET_MS = 1500.0


def asset_sizes() -> tuple[float, float, list[str]]:
    """(JS gzip KB, all gzip KB, one line per file)."""
    if not (BUILD / "index.html").is_file():
        raise SystemExit(f"no dashboard build in {BUILD}: run `uv run true` with npm on PATH")
    js_kb = total_kb = 0.0
    lines = []
    for file in sorted(BUILD.rglob("*")):
        if not file.is_file():
            continue
        raw = file.read_bytes()
        packed = len(gzip.compress(raw, compresslevel=6)) / 1000
        total_kb += packed
        if file.suffix == ".js":
            js_kb += packed
        lines.append(f"{file.relative_to(BUILD)}: {len(raw) / 1000:.1f} KB, {packed:.1f} KB gzip")
    return js_kb, total_kb, lines


def first_loads(base: str, expected_cards: int, loads: int) -> list[float]:
    """Seconds from navigation start to every card shown and live updates connected."""
    samples = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for _ in range(loads):
                context = browser.new_context(viewport={"width": 1440, "height": 900})
                page = context.new_page()
                page.goto(f"{base}/", wait_until="commit")
                page.wait_for_function(
                    """n => document.querySelectorAll('[data-testid="deployment-card"]').length >= n
                        && document.querySelector('[data-testid="connection"]')
                               ?.getAttribute('data-state') === 'open'""",
                    arg=expected_cards,
                    timeout=30_000,
                )
                samples.append(page.evaluate("performance.now()") / 1000)
                context.close()
        finally:
            browser.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=100)
    parser.add_argument("--loads", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()

    js_kb, total_kb, lines = asset_sizes()
    with data_directory(keep=args.keep) as data_dir:
        url = database_url(data_dir)
        ids = asyncio.run(seed_deployments(url, args.deployments))
        with server_process(data_dir, url) as base:
            # Terminated deployments are folded behind a toggle: count the cards shown.
            listed = httpx.get(f"{base}/api/v1/deployments", timeout=30).json()["deployments"]
            shown = sum(1 for d in listed if d["state"] != "terminated")
            samples = first_loads(base, shown, args.loads)

    rows = [Row.of("first load to interactive", samples, f"{shown} cards shown")]
    js_ok = js_kb <= JS_BUDGET_KB
    load_ok = max(samples) * 1000 < LOAD_TARGET_MS
    verdict = (
        f"JavaScript {js_kb:.1f} KB gzip (all files {total_kb:.1f} KB): "
        f"{'meets' if js_ok else 'MISSES'} the {JS_BUDGET_KB:.0f} KB budget. "
        f"First load p50 {rows[0].p50_ms:.0f} ms, max {rows[0].max_ms:.0f} ms: "
        f"{'meets' if load_ok else 'MISSES'} the {LOAD_TARGET_MS:.0f} ms target.\n\n"
        + "\n".join(f"- {line}" for line in lines)
    )
    setup = (
        f"{len(ids)} deployments seeded ({backend(url)}), real server process, headless "
        f"Chromium ({CHROMIUM}) on loopback, {args.loads} loads, each in a fresh context"
    )
    record("Dashboard first load and weight", setup, rows, verdict, machine())


if __name__ == "__main__":
    main()
