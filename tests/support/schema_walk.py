"""Walking JSON Schemas (the OpenAPI document's, the manifest's) to reach every field.

Tests that must cover every field of a request (trailing newlines, strict integers, huge
integers) take the list from here, so a field added later is covered without editing them.

`leaves(schema)` yields one `Leaf` per string or integer field, with `build(value)`: a minimal
valid document (each object its `examples[0]`, else its required fields from their `examples`,
`default`, `const` or `enum`) that holds `value` at that field. A dict with constrained keys (pydantic's
`patternProperties`) yields its key as a string leaf at `{key}`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

KEY = "{key}"
Path = tuple[str | int, ...]


class NoExample(Exception):
    """A required field without `examples`, `default`, `const` or `enum`: give it one."""


@dataclass(frozen=True)
class Leaf:
    path: Path
    schema: dict[str, Any]
    kind: str  # "string" | "integer"
    example: Any
    build: Callable[[Any], Any]

    @property
    def dotted(self) -> str:
        return ".".join(str(p) for p in self.path)

    def field_for(self, value: Any) -> str:
        """The field a 422 names when `value` is at this leaf (a key names itself)."""
        parts = [str(value) if p == KEY else str(p) for p in self.path]
        return ".".join(parts)

    @property
    def constrained(self) -> bool:
        """A string whose characters the schema restricts (or, for a key, any key)."""
        return bool({"pattern", "enum", "const"} & set(self.schema)) or KEY in self.path


def resolve(root: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """`schema` with `$ref`s into `root` followed."""
    while "$ref" in schema:
        ref = str(schema["$ref"])
        node: Any = root
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
    return dict(schema)


def branches(root: Mapping[str, Any], schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The non-null alternatives of an `anyOf` / `oneOf` (or the schema itself)."""
    s = resolve(root, schema)
    options = s.get("anyOf") or s.get("oneOf")
    if not options:
        return [s]
    return [resolve(root, o) for o in options if resolve(root, o).get("type") != "null"]


def example(root: Mapping[str, Any], schema: Mapping[str, Any], where: str = "$") -> Any:
    """A valid value of `schema`: its example, default, const or first enum value, or an
    object of its required properties' examples."""
    s = resolve(root, schema)
    if s.get("examples"):
        return s["examples"][0]
    if "const" in s:
        return s["const"]
    if s.get("enum"):
        return s["enum"][0]
    if s.get("default") is not None:
        return s["default"]
    if s.get("anyOf") or s.get("oneOf"):
        return example(root, branches(root, s)[0], where)
    kind = s.get("type")
    if kind == "object":
        required = s.get("required", [])
        props = s.get("properties", {})
        return {
            name: example(root, props[name], f"{where}.{name}".lstrip(".")) for name in required
        }
    if kind == "array":
        return []
    raise NoExample(f"{where}: no example, default, const or enum in the schema")


def leaves(root: Mapping[str, Any], schema: Mapping[str, Any], path: Path = ()) -> Iterator[Leaf]:
    """Every string and integer field under `schema` (see the module docstring). A number that
    may also be written as a string (a decimal amount) is a number, not a string field."""
    options = branches(root, schema)
    if any(o.get("type") in ("number", "integer") for o in options):
        options = [o for o in options if o.get("type") != "string"]
    for s in options:
        yield from _leaves_of(root, s, path)


def _leaves_of(root: Mapping[str, Any], s: dict[str, Any], path: Path) -> Iterator[Leaf]:
    kind = s.get("type")
    if kind == "object" or "properties" in s or "patternProperties" in s:
        # The object's example (a whole valid one), else its required fields.
        base = example(root, {**s, "default": None}, ".".join(map(str, path)))
        for name, prop in s.get("properties", {}).items():
            for leaf in leaves(root, prop, (*path, name)):
                yield _wrap(leaf, lambda v, b=leaf.build, n=name: {**base, n: b(v)})
        for key_pattern, value_schema in s.get("patternProperties", {}).items():
            key_schema = {"type": "string", "pattern": key_pattern, **s.get("propertyNames", {})}
            value = example(root, value_schema) if "examples" in value_schema else "x"
            yield Leaf(
                (*path, KEY),
                key_schema,
                "string",
                example(root, key_schema, f"{'.'.join(map(str, path))} key"),
                lambda v, b=base, val=value: {**b, v: val},
            )
        return
    if kind == "array" and "items" in s:
        for leaf in leaves(root, s["items"], (*path, 0)):
            yield _wrap(leaf, lambda v, b=leaf.build: [b(v)])
        return
    if kind in ("string", "integer") or "const" in s or "enum" in s:
        numeric = kind == "integer" or isinstance(s.get("const"), int)
        value_kind = "integer" if numeric else "string"
        sample = example(root, s, ".".join(map(str, path))) if value_kind == "string" else None
        yield Leaf(path, s, value_kind, sample, lambda v: v)


def _wrap(leaf: Leaf, build: Callable[[Any], Any]) -> Leaf:
    return Leaf(leaf.path, leaf.schema, leaf.kind, leaf.example, build)


def json_body_schema(operation: Mapping[str, Any]) -> dict[str, Any] | None:
    """The JSON request body schema of an OpenAPI operation, if it takes one."""
    content = operation.get("requestBody", {}).get("content", {})
    body = content.get("application/json")
    return None if body is None else dict(body["schema"])


def operations(doc: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) for every operation of an OpenAPI document."""
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method.upper(), path, operation
