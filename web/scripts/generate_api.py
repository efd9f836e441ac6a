"""Generate the dashboard's typed API client from the server's OpenAPI document.

    uv run python web/scripts/generate_api.py          # rewrite web/src/api/generated.ts
    uv run python web/scripts/generate_api.py --check  # exit 1 if it is stale

The output has one TypeScript type per schema in `components.schemas` (and, for a string enum
such as `EventType`, its members as a `...Values` array) and one function per
operation (named after its `operationId`, in camelCase), each calling `request()` from
`./http.ts` with typed path parameters, query, body and result. A test runs `--check`, so an
API change that is not regenerated fails the suite.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parents[1] / "src" / "api" / "generated.ts"
HEADER = """\
// Generated from the server's OpenAPI by web/scripts/generate_api.py. Do not edit by hand:
// run `uv run python web/scripts/generate_api.py` after changing the API.
/* eslint-disable */
import { request, type RequestOptions } from "./http";
"""
Schema = dict[str, Any]


def camel(name: str) -> str:
    head, *rest = re.split(r"[_\W]+", name)
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def pascal(name: str) -> str:
    text = camel(name)
    return text[:1].upper() + text[1:]


def ident(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_$][\w$]*", name) else json.dumps(name)


def ts_type(schema: Schema, indent: str = "") -> str:
    """The TypeScript type for one JSON Schema (OpenAPI 3.1 dialect, as pydantic writes it)."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            parts = [ts_type(s, indent) for s in schema[combinator]]
            return " | ".join(dict.fromkeys(parts))
    if "allOf" in schema:
        return " & ".join(ts_type(s, indent) for s in schema["allOf"])
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(ts_type({**schema, "type": k}, indent) for k in kind)
    if kind == "string":
        return "string"
    if kind in ("integer", "number"):
        return "number"
    if kind == "boolean":
        return "boolean"
    if kind == "null":
        return "null"
    if kind == "array":
        item = ts_type(schema.get("items", {}), indent)
        return f"({item})[]" if "|" in item or "&" in item else f"{item}[]"
    if kind == "object" or "properties" in schema:
        return object_type(schema, indent)
    return "unknown"


def object_type(schema: Schema, indent: str) -> str:
    props: dict[str, Schema] = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    if not props:
        if isinstance(extra, dict) and extra:
            return f"Record<string, {ts_type(extra, indent)}>"
        return "Record<string, unknown>"
    required = set(schema.get("required", []))
    inner = indent + "  "
    lines = ["{"]
    for name, prop in props.items():
        doc = prop.get("description")
        if doc:
            lines.append(f"{inner}/** {' '.join(str(doc).split())} */")
        optional = "" if name in required else "?"
        lines.append(f"{inner}{ident(name)}{optional}: {ts_type(prop, inner)};")
    if extra is True or (isinstance(extra, dict) and extra):
        value = "unknown" if extra is True else ts_type(extra, inner)
        lines.append(f"{inner}[key: string]: {value};")
    lines.append(f"{indent}}}")
    return "\n".join(lines)


def schema_declarations(schemas: dict[str, Schema]) -> list[str]:
    out = []
    for name in sorted(schemas):
        schema = schemas[name]
        doc = schema.get("description")
        if doc:
            out.append(f"/** {' '.join(str(doc).split())} */")
        body = ts_type(schema)
        if body.startswith("{") and not any(k in schema for k in ("oneOf", "anyOf", "allOf")):
            out.append(f"export interface {name} {body}\n")
        else:
            out.append(f"export type {name} = {body};\n")
        values = schema.get("enum")
        if schema.get("type") == "string" and values:
            # The members as a value too, in the server's order (what the dashboard listens to).
            listed = ", ".join(json.dumps(v) for v in values)
            out.append(
                f"export const {name}Values = [{listed}] as const satisfies readonly {name}[];\n"
            )
    return out


def success(operation: Schema) -> tuple[str, str]:
    """(TypeScript result type, response kind) of the first 2xx response."""
    for code, response in sorted(operation.get("responses", {}).items()):
        if not code.startswith("2"):
            continue
        content = response.get("content") or {}
        if "application/json" in content:
            return ts_type(content["application/json"].get("schema", {})), "json"
        if content:
            return "string", "text"
        return "void", "none"
    return "void", "none"


def operation_function(path: str, method: str, operation: Schema) -> str:
    name = camel(operation["operationId"])
    params = operation.get("parameters", [])
    path_params = [p for p in params if p["in"] == "path"]
    query_params = [p for p in params if p["in"] == "query"]
    args: list[str] = []
    for p in path_params:
        args.append(f"{camel(p['name'])}: {ts_type(p.get('schema', {}))}")
    body = operation.get("requestBody")
    body_type = None
    form = False
    if body:
        content = body["content"]
        if "application/json" in content:
            body_type = ts_type(content["application/json"]["schema"])
        else:  # multipart/form-data: file uploads; the fields are the schema's properties
            form, body_type = True, "FormData"
        args.append(f"body{'' if body.get('required') else '?'}: {body_type}")
    if query_params:
        fields = [
            f"{ident(p['name'])}{'' if p.get('required') else '?'}: {ts_type(p.get('schema', {}))}"
            for p in query_params
        ]
        optional = "" if any(p.get("required") for p in query_params) else "?"
        args.append(f"query{optional}: {{ {'; '.join(fields)} }}")
    args.append("options?: RequestOptions")
    result, kind = success(operation)
    url = path
    for p in path_params:
        url = url.replace("{" + p["name"] + "}", "${encodeURIComponent(" + camel(p["name"]) + ")}")
    call_parts = [f'method: "{method.upper()}"', f"path: `{url}`", f'expect: "{kind}"']
    if query_params:
        call_parts.append("query")
    if body_type is not None:
        call_parts.append("form: body" if form else "body")
    summary = operation.get("summary") or name
    description = " ".join(str(operation.get("description", "")).split())
    doc = f"/** {summary}{': ' + description if description else ''} */"
    return (
        f"{doc}\nexport function {name}({', '.join(args)}): Promise<{result}> {{\n"
        f"  return request<{result}>({{ {', '.join(call_parts)}, ...options }});\n}}\n"
    )


def generate(document: Schema) -> str:
    parts = [HEADER, "// ---- schemas ----\n"]
    parts += schema_declarations(document.get("components", {}).get("schemas", {}))
    parts.append("// ---- operations ----\n")
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                parts.append(operation_function(path, method, operation))
    return "\n".join(parts)


def current_document() -> Schema:
    from comfyhangar.server.app import create_app

    return create_app().openapi()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    args = parser.parse_args(argv)
    text = generate(current_document())
    if args.check:
        if not OUTPUT.is_file() or OUTPUT.read_text() != text:
            print(f"{OUTPUT} is stale: run `uv run python web/scripts/generate_api.py`")
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
