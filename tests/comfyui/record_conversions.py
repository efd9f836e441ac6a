"""Record reference UI -> API conversions from a real ComfyUI frontend.

The expected results of `tests/comfyui/test_convert.py` are what the real frontend produces: this
script loads each UI workflow into the frontend served by a running ComfyUI (headless Chromium,
driven by Playwright), calls `app.loadGraphData(workflow)` then `app.graphToPrompt()`, and stores
the resulting `output` (the API prompt) as a fixture. Nothing of the frontend is imitated here.

    uv run python -m tests.comfyui.record_conversions --url http://127.0.0.1:8188

Inputs: every `comfyui_workflow_templates/templates/*.json` of the installed PyPI package (the
dev dependency, same version as the server's `required_templates_version`), and the hand-made
trap graphs in `tests/comfyui/fixtures/traps/*.ui.json`. Outputs: one JSON per workflow under
`tests/comfyui/fixtures/frontend/{templates,traps}/`, holding the recorded `output` (or the error
the frontend raised), the random draws the frontend consumed, and the versions it ran with.

Randomness and time are pinned so that a recording can be replayed: `Math.random` returns a fixed
sequence (dynamic prompts `{a|b}` draw from it; the converter is given the same draws), the page
clock is fixed at `RECORDED_AT` and the time zone is UTC (`%date:...%` in file name prefixes).
The server must run with no model files (the object_info snapshot in `../shared` was taken so);
the recording stores the sha256 of the `/object_info` it ran against, and the tests check it.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from importlib.metadata import version
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

from tests.comfyui.references import (
    LAYOUTS,
    RECORDED_AT,
    TRAPS_DIR,
    canonical_sha256,
    template_files,
)
from tests.comfyui.references import RECORDINGS as OUT_DIR

RANDOM_SEED = 11
RANDOM_DRAWS = 256
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Runs in the page: load one workflow, convert it with Math.random pinned, report.
CONVERT_JS = """
async ({workflow, draws}) => {
  const app = window.app
  const errors = []
  const onError = (e) => errors.push(String(e?.message ?? e))
  const types = (nodes) => (nodes ?? []).map((n) => n.type)
  const allTypes = [
    ...types(workflow.nodes),
    ...(workflow.definitions?.subgraphs ?? []).flatMap((s) => types(s.nodes)),
  ]
  const subgraphIds = new Set((workflow.definitions?.subgraphs ?? []).map((s) => s.id))
  const missing = [...new Set(allTypes.filter(
    (t) => !(t in LiteGraph.registered_node_types) && !subgraphIds.has(t)))].sort()
  window.addEventListener('error', onError)
  const original = Math.random
  let used = 0
  try {
    await app.loadGraphData(workflow, true, false, null, {
      showMissingNodesDialog: false, showMissingModelsDialog: false,
    })
    Math.random = () => {
      if (used >= draws.length) throw new Error('recorder: out of random draws')
      return draws[used++]
    }
    const { output } = await app.graphToPrompt()
    // As api.queuePrompt sends it: JSON.stringify drops `undefined` (e.g. the class_type of
    // a node whose type the server lacks).
    return { output: JSON.stringify(output), draws_used: used, missing_node_types: missing }
  } catch (e) {
    return {
      error: { name: e?.constructor?.name ?? 'Error', message: String(e?.message ?? e) },
      draws_used: used, missing_node_types: missing,
    }
  } finally {
    Math.random = original
    window.removeEventListener('error', onError)
  }
}
"""


# Runs in the page: the inputs and widgets the frontend gives a new node of every class.
LAYOUTS_JS = """
() => {
  const safe = (v) => { try { return JSON.parse(JSON.stringify(v ?? null)) } catch { return null } }
  const out = {}
  for (const type of Object.keys(LiteGraph.registered_node_types).sort()) {
    const node = LiteGraph.createNode(type)
    if (!node) continue
    out[type] = {
      title: node.title,
      virtual: !!node.isVirtualNode,
      inputs: (node.inputs ?? []).map((i) => [i.name, i.type, i.widget?.name ?? null]),
      widgets: (node.widgets ?? []).map((w) => ({
        name: w.name,
        consumes_value: w.serialize !== false,
        in_prompt: !!w.name && w.options?.serialize !== false,
        dynamic_prompts: !!w.dynamicPrompts,
        value: safe(w.value),
      })),
    }
  }
  return JSON.stringify(out)
}
"""


def random_draws(seed: int = RANDOM_SEED, count: int = RANDOM_DRAWS) -> list[float]:
    """The fixed sequence `Math.random` returns during a recording."""
    rng = random.Random(seed)
    return [rng.random() for _ in range(count)]


def templates_version() -> str:
    return version("comfyui-workflow-templates")


def _open_frontend(page: Page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_function(
        "() => window.app?.graph && window.LiteGraph?.registered_node_types?.KSampler",
        polling=250,
        timeout=120_000,
    )


def record(url: str, names: list[str] | None) -> int:
    """Record every template and trap (or only `names`); returns the number of files written."""
    base = url.rstrip("/")
    stats = httpx.get(f"{base}/system_stats", timeout=30).json()["system"]
    object_info = httpx.get(f"{base}/object_info", timeout=120).json()
    meta = {
        "comfyui_version": stats["comfyui_version"],
        "frontend_version": stats["required_frontend_version"],
        "templates_version": stats["installed_templates_version"],
        "object_info_sha256": canonical_sha256(object_info),
        "recorded_at": RECORDED_AT.isoformat(),
        "random_seed": RANDOM_SEED,
    }
    if meta["templates_version"] != templates_version():
        sys.exit(
            f"the server has comfyui-workflow-templates {meta['templates_version']}, "
            f"this environment {templates_version()}: record with the same version"
        )
    jobs = [("templates", p) for p in template_files()]
    jobs += [("traps", p) for p in sorted(TRAPS_DIR.glob("*.ui.json"))]
    if names:
        jobs = [(kind, p) for kind, p in jobs if _stem(p) in names]
    draws = random_draws()
    written = 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(timezone_id="UTC")
        page = context.new_page()
        page.clock.set_fixed_time(RECORDED_AT)
        _open_frontend(page, base)
        if not names:
            layouts = json.loads(page.evaluate(LAYOUTS_JS))
            document = {**meta, "layouts": layouts}
            LAYOUTS.write_text(
                json.dumps(document, indent=0, sort_keys=True, ensure_ascii=False) + "\n"
            )
            written += 1
        for kind, path in jobs:
            workflow = json.loads(path.read_text())
            result = page.evaluate(CONVERT_JS, {"workflow": workflow, "draws": draws})
            document = {
                "source": path.name,
                **meta,
                "missing_node_types": result["missing_node_types"],
                "random_draws": draws[: result["draws_used"]],
            }
            if "error" in result:
                document["error"] = result["error"]
            else:
                document["output"] = json.loads(result["output"])
            out = OUT_DIR / kind / f"{_stem(path)}.api.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
            written += 1
            status = "error: " + result["error"]["message"] if "error" in result else "ok"
            print(f"{kind}/{_stem(path)}: {status}")
        browser.close()
    return written


def _stem(path: Path) -> str:
    return path.name.removesuffix(".json").removesuffix(".ui")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8188", help="a running ComfyUI")
    parser.add_argument("names", nargs="*", help="only these workflows (file stems)")
    args = parser.parse_args(argv)
    count = record(args.url, args.names or None)
    print(f"{count} recordings written under {OUT_DIR}")


if __name__ == "__main__":
    main()
