"""The dashboard's own checks, run by the one test command: its TypeScript types, its unit
tests (vitest), and the generated API client being in step with the server's OpenAPI.

They need Node 20.19+ with npm (a prerequisite in the README), and `web/node_modules`, which
the build hook installs during `uv run`.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
NPX = shutil.which("npx")

needs_node = pytest.mark.skipif(
    NPX is None or not (WEB / "node_modules").is_dir(),
    reason="Node/npm or web/node_modules missing (uv run installs them when npm is on PATH)",
)


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "generate_api", WEB / "scripts" / "generate_api.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_api_client_matches_the_servers_openapi() -> None:
    generator = _generator()
    expected = generator.generate(generator.current_document())
    assert generator.OUTPUT.read_text() == expected, (
        "web/src/api/generated.ts is stale: run `uv run python web/scripts/generate_api.py`"
    )


def test_generator_covers_every_operation_and_schema() -> None:
    generator = _generator()
    document = generator.current_document()
    text = generator.generate(document)
    for item in document["paths"].values():
        for operation in item.values():
            assert f"export function {generator.camel(operation['operationId'])}(" in text
    for name in document["components"]["schemas"]:
        assert f"export interface {name} " in text or f"export type {name} = " in text


def test_generator_types_follow_the_schema() -> None:
    generator = _generator()
    nullable_int = {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert generator.ts_type(nullable_int) == "number | null"
    assert generator.ts_type({"type": "array", "items": nullable_int}) == "(number | null)[]"
    assert generator.ts_type({"enum": ["a", "b"]}) == '"a" | "b"'
    shape = generator.ts_type(
        {"type": "object", "properties": {"x": {"type": "string"}, "y": {}}, "required": ["x"]}
    )
    assert "x: string;" in shape
    assert "y?: unknown;" in shape


@needs_node
def test_typescript_types_check() -> None:
    result = subprocess.run(
        [str(NPX), "tsc", "--noEmit", "-p", "."], cwd=WEB, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@needs_node
def test_vitest_unit_tests_pass() -> None:
    result = subprocess.run(
        [str(NPX), "vitest", "run", "--reporter=dot"],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "passed" in result.stdout
