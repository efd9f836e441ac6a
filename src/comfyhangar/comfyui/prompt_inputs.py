"""The inputs of an API prompt that a user changes per run, and checking a prompt against a server.

An input is addressed as `node_id.input` (`6.text`, `3.seed`): a literal (not a link) input of
one node. Its type comes from the server's `/object_info` when one is given (`INT`, `FLOAT`,
`STRING`, `BOOLEAN`, `COMBO` for a list of choices such as model files), else from the value.

- `detect_inputs(prompt, object_info)`: every literal input, in node order.
- `apply_overrides(prompt, overrides, inputs)`: a copy with values replaced, each checked
  against the input's type; unknown keys are refused.
- `vary_seeds(prompt, inputs, base, index, mode)`: seed inputs for the n-th run of a batch.
- `problems_on(prompt, object_info)`: what a server lacks to run the prompt (node types, model
  files and other choices), each naming node, input and value.

Pure: no I/O.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

SEED_INPUTS = frozenset({"seed", "noise_seed"})
# The largest seed ComfyUI's samplers take (KSampler: 0xffffffffffffffff).
MAX_SEED = 2**64 - 1
SeedMode = Literal["increment", "random", "fixed"]
_SCALARS = {"INT", "FLOAT", "STRING", "BOOLEAN"}


@dataclass(frozen=True)
class PromptInput:
    """One changeable input: `key` is `node_id.input`."""

    node_id: str
    class_type: str
    input: str
    type: str
    default: Any
    choices: tuple[str, ...] | None = None

    @property
    def key(self) -> str:
        return f"{self.node_id}.{self.input}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "node_id": self.node_id,
            "class_type": self.class_type,
            "input": self.input,
            "type": self.type,
            "default": self.default,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> PromptInput:
        return PromptInput(
            str(data["node_id"]),
            str(data["class_type"]),
            str(data["input"]),
            str(data["type"]),
            data.get("default"),
        )


@dataclass(frozen=True)
class Problem:
    """Something a server lacks to run a prompt. `reason`: `unknown_node_type`,
    `missing_file` (a model or input file), `value_not_allowed`."""

    reason: str
    node_id: str
    class_type: str
    input: str | None
    value: Any
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "node_id": self.node_id,
            "class_type": self.class_type,
            "input": self.input,
            "value": self.value,
            "message": self.message,
        }


class OverrideError(ValueError):
    """An override names no input of the workflow, or has the wrong type. `key` names it."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


def is_link(value: Any) -> bool:
    """An API prompt link: `[node_id, output_index]`."""
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
    )


def _spec(object_info: Mapping[str, Any] | None, class_type: str, name: str) -> Any:
    if object_info is None:
        return None
    definition = object_info.get(class_type)
    if not isinstance(definition, Mapping):
        return None
    inputs = definition.get("input") or {}
    for group in ("required", "optional"):
        entry = (inputs.get(group) or {}).get(name)
        if entry is not None:
            return entry
    return None


def _type_and_choices(spec: Any, value: Any) -> tuple[str, tuple[str, ...] | None]:
    if isinstance(spec, list) and spec:
        head = spec[0]
        if isinstance(head, list):
            return "COMBO", tuple(str(c) for c in head)
        if head == "COMBO":
            options = (
                spec[1].get("options", []) if len(spec) > 1 and isinstance(spec[1], dict) else []
            )
            return "COMBO", tuple(str(c) for c in options)
        if isinstance(head, str):
            return head, None
    if isinstance(value, bool):
        return "BOOLEAN", None
    if isinstance(value, int):
        return "INT", None
    if isinstance(value, float):
        return "FLOAT", None
    if isinstance(value, str):
        return "STRING", None
    return "JSON", None


def _node_order(prompt: Mapping[str, Any]) -> list[str]:
    def order(node_id: str) -> tuple[int, int | str]:
        return (0, int(node_id)) if node_id.isdigit() else (1, node_id)

    return sorted(prompt, key=order)


def detect_inputs(
    prompt: Mapping[str, Any], object_info: Mapping[str, Any] | None = None
) -> list[PromptInput]:
    """Every literal input of `prompt` (links are not inputs a user sets), in node order."""
    found: list[PromptInput] = []
    for node_id in _node_order(prompt):
        node = prompt[node_id]
        class_type = str(node.get("class_type", ""))
        for name, value in (node.get("inputs") or {}).items():
            if is_link(value):
                continue
            kind, choices = _type_and_choices(_spec(object_info, class_type, name), value)
            found.append(PromptInput(str(node_id), class_type, str(name), kind, value, choices))
    return found


def _checked(item: PromptInput, value: Any) -> Any:
    kind = item.type
    if kind == "INT":
        if isinstance(value, bool) or not isinstance(value, int):
            raise OverrideError(item.key, f"{item.key} takes an integer, not {value!r}")
    elif kind == "FLOAT":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise OverrideError(item.key, f"{item.key} takes a number, not {value!r}")
        return float(value)
    elif kind == "BOOLEAN":
        if not isinstance(value, bool):
            raise OverrideError(item.key, f"{item.key} takes true or false, not {value!r}")
    elif kind in ("STRING", "COMBO") and not isinstance(value, str):
        raise OverrideError(item.key, f"{item.key} takes a string, not {value!r}")
    return value


def apply_overrides(
    prompt: Mapping[str, Any], overrides: Mapping[str, Any], inputs: list[PromptInput]
) -> dict[str, Any]:
    """A copy of `prompt` with each `node_id.input` of `overrides` set (type-checked)."""
    known = {item.key: item for item in inputs}
    result: dict[str, Any] = copy.deepcopy(dict(prompt))
    for key, value in overrides.items():
        item = known.get(key)
        if item is None:
            node_id = key.rsplit(".", 1)[0]
            where = "node" if node_id not in prompt else "input of node"
            raise OverrideError(
                key, f"{key} is not an input of this workflow (no such {where} {node_id})"
            )
        result[item.node_id]["inputs"][item.input] = _checked(item, value)
    return result


def seed_inputs(inputs: list[PromptInput]) -> list[PromptInput]:
    """The inputs that are samplers' seeds."""
    return [i for i in inputs if i.input in SEED_INPUTS and i.type == "INT"]


def vary_seeds(
    prompt: dict[str, Any],
    inputs: list[PromptInput],
    *,
    base: int | None,
    index: int,
    mode: SeedMode,
    rng: random.Random | None = None,
) -> dict[str, Any]:
    """Set every seed input of `prompt` (in place) for run `index` of a batch and return it.

    `base` (or each seed's current value when None) is the first run's seed; `increment`
    adds `index`, `random` draws a fresh seed for every run after the first, `fixed` keeps it.
    """
    draw = rng or random.SystemRandom()
    for item in seed_inputs(inputs):
        node_inputs = prompt[item.node_id]["inputs"]
        start = base if base is not None else node_inputs[item.input]
        if not isinstance(start, int):
            continue
        if mode == "increment":
            value = (start + index) % (MAX_SEED + 1)
        elif mode == "random" and index > 0:
            value = draw.randint(0, 2**53 - 1)
        else:
            value = start
        node_inputs[item.input] = value
    return prompt


def problems_on(prompt: Mapping[str, Any], object_info: Mapping[str, Any]) -> list[Problem]:
    """What the server of `object_info` lacks to run `prompt`, node by node."""
    found: list[Problem] = []
    for node_id in _node_order(prompt):
        node = prompt[node_id]
        class_type = str(node.get("class_type", ""))
        if class_type not in object_info:
            found.append(
                Problem(
                    "unknown_node_type",
                    str(node_id),
                    class_type,
                    None,
                    None,
                    f"node {node_id}: this ComfyUI has no node type {class_type!r} (a custom "
                    "node that is not installed on it)",
                )
            )
            continue
        for name, value in (node.get("inputs") or {}).items():
            if is_link(value) or not isinstance(value, str):
                continue
            kind, choices = _type_and_choices(_spec(object_info, class_type, name), value)
            if kind != "COMBO" or choices is None or value in choices:
                continue
            looks_like_file = "." in value.rsplit("/", 1)[-1]
            reason = "missing_file" if looks_like_file else "value_not_allowed"
            what = (
                f"file {value!r} is not on this ComfyUI"
                if looks_like_file
                else f"{value!r} is not one of its choices"
            )
            shown = ", ".join(choices[:5]) + (", ..." if len(choices) > 5 else "")
            found.append(
                Problem(
                    reason,
                    str(node_id),
                    class_type,
                    str(name),
                    value,
                    f"node {node_id} ({class_type}) input {name}: {what} (it has: {shown or 'none'})",
                )
            )
    return found
