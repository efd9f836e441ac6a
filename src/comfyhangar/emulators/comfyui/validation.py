"""`POST /prompt` validation, step for step as ComfyUI 0.3.64's `validate_prompt`/`validate_inputs`.

The same checks in the same order give the same `error` and `node_errors`: unknown class or
missing `class_type` (`invalid_prompt`), no output node (`prompt_no_outputs`), then per output
node, recursively through its links: missing required input, bad link, wrong linked type,
value conversion, min/max, list membership, a node's own check; exceptions met on the way
(a link to an absent node is a `KeyError`, to an absent slot an `IndexError`) are reported as
ComfyUI reports them, with its traceback lines. Values are converted in place, as ComfyUI does,
so the queued prompt holds them converted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from comfyhangar.emulators.comfyui.nodes import NodeEnvironment, NodeType

# The lines of ComfyUI 0.3.64's execution.py that its validation tracebacks show (Python 3.11:
# with the caret line under the failing expression: its indent, its marks), keyed by role.
_FRAMES = {
    "top": (1010, "validate_prompt", "m = await validate_inputs(prompt_id, prompt, o, validated)", 8, "^" * 54),
    "recurse": (808, "validate_inputs", "r = await validate_inputs(prompt_id, prompt, o_id, validated)", 8, "^" * 57),
    "inputs": (730, "validate_inputs", "inputs = prompt[unique_id]['inputs']", 13, "~" * 17 + "^" * 10),
    "lookup": (788, "validate_inputs", "o_class_type = prompt[o_id]['class_type']", 19, "~" * 6 + "^" * 6),
    "slot": (790, "validate_inputs", "received_type = r[val[1]]", 20, "~" + "^" * 8),
}  # fmt: skip


@dataclass(frozen=True)
class Validation:
    """The outcome: `ok` with the outputs to run, else the top-level `error`; `node_errors` both."""

    ok: bool
    error: dict[str, Any] | None
    outputs: list[str]
    node_errors: dict[str, Any]


class _Failure(Exception):
    """An exception met while validating, and the line of execution.py that raised it."""

    def __init__(self, cause: Exception, raised_at: str) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.raised_at = raised_at

    def traceback(self, caught_at: str, comfyui_dir: str) -> list[str]:
        """The two lines `traceback.format_tb` gives where ComfyUI catches it."""
        lines = []
        for key in (caught_at, self.raised_at):
            number, function, code, indent, marks = _FRAMES[key]
            lines.append(
                f'  File "{comfyui_dir}/execution.py", line {number}, in {function}\n'
                f"    {code}\n{' ' * indent}{marks}\n"
            )
        return lines


def exception_type(error: BaseException) -> str:
    """ComfyUI's `full_type_name`: the qualified name, without `builtins.`."""
    module = type(error).__module__
    name = type(error).__qualname__
    return name if module == "builtins" else f"{module}.{name}"


Resolver = Callable[[str], "NodeType | None"]
Definition = Callable[[str], dict[str, Any]]


class Validator:
    """Validates one prompt against the emulated server's node classes and files."""

    def __init__(
        self,
        prompt: dict[str, Any],
        node_type: Resolver,
        definition: Definition,
        env: NodeEnvironment,
        comfyui_dir: str,
    ) -> None:
        self.prompt = prompt
        self.node_type = node_type
        self.definition = definition  # resolved (current file lists)
        self.env = env
        self.comfyui_dir = comfyui_dir
        self.validated: dict[str, tuple[bool, list[dict[str, Any]], str]] = {}
        self._visiting: set[str] = set()

    def run(self, partial_targets: list[str] | None) -> Validation:
        outputs: list[str] = []
        for node_id, node in self.prompt.items():
            if not isinstance(node, dict) or "class_type" not in node:
                return _refused(
                    "invalid_prompt",
                    "Cannot execute because a node is missing the class_type property.",
                    f"Node ID '#{node_id}'",
                )
            class_type = node["class_type"]
            kind = self.node_type(class_type) if isinstance(class_type, str) else None
            if kind is None:
                return _refused(
                    "invalid_prompt",
                    f"Cannot execute because node {class_type} does not exist.",
                    f"Node ID '#{node_id}'",
                )
            if kind.output_node and (partial_targets is None or node_id in partial_targets):
                outputs.append(node_id)
        if not outputs:
            return _refused("prompt_no_outputs", "Prompt has no outputs", "")

        good: list[str] = []
        failed: list[tuple[str, list[dict[str, Any]]]] = []
        node_errors: dict[str, Any] = {}
        for output in outputs:
            try:
                valid, reasons, _ = self.validate(output)
            except _Failure as failure:
                valid = False
                reasons = [
                    {
                        "type": "exception_during_validation",
                        "message": "Exception when validating node",
                        "details": str(failure.cause),
                        "extra_info": {
                            "exception_type": exception_type(failure.cause),
                            "traceback": failure.traceback("top", self.comfyui_dir),
                        },
                    }
                ]
                self.validated[output] = (False, reasons, output)
            if valid:
                good.append(output)
                continue
            failed.append((output, reasons))
            for node_id, (ok, node_reasons, _) in self.validated.items():
                if ok or not node_reasons:
                    continue
                entry = node_errors.setdefault(
                    node_id,
                    {
                        "errors": node_reasons,
                        "dependent_outputs": [],
                        "class_type": self.prompt[node_id]["class_type"],
                    },
                )
                entry["dependent_outputs"].append(output)
        if not good:
            details = "\n".join(
                f"{reason['message']}: {reason['details']}" for _, rs in failed for reason in rs
            )
            error = _error(
                "prompt_outputs_failed_validation", "Prompt outputs failed validation", details
            )
            return Validation(False, error, [], node_errors)
        return Validation(True, None, good, node_errors)

    def validate(self, node_id: str) -> tuple[bool, list[dict[str, Any]], str]:
        """`validate_inputs` of one node (cached per prompt, recursive through links)."""
        if node_id in self.validated:
            return self.validated[node_id]
        if node_id in self._visiting:  # ComfyUI recurses around a cycle until Python stops it
            raise _Failure(RecursionError("maximum recursion depth exceeded"), "recurse")
        self._visiting.add(node_id)
        try:
            return self._validate(node_id)
        finally:
            self._visiting.discard(node_id)

    def _validate(self, node_id: str) -> tuple[bool, list[dict[str, Any]], str]:
        node = self.prompt[node_id]
        if not isinstance(node.get("inputs"), dict):
            raise _Failure(KeyError("inputs"), "inputs")
        inputs: dict[str, Any] = node["inputs"]
        kind = self._kind(node["class_type"])
        definition = self.definition(kind.name)
        declared = {
            **definition["input"].get("required", {}),
            **definition["input"].get("optional", {}),
        }
        required = definition["input"].get("required", {})
        errors: list[dict[str, Any]] = []
        valid = True
        checked = set(kind.checked_inputs) if kind.check_inputs is not None else set()

        for name in _ordered(declared, definition):
            spec = declared[name]
            input_type = spec[0]
            options = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
            info = [input_type, options]
            if name not in inputs:
                if name in required:
                    errors.append(
                        _input_error(
                            "required_input_missing",
                            "Required input is missing",
                            name,
                            {"input_name": name},
                        )
                    )
                continue
            value = inputs[name]
            if isinstance(value, list):
                problem, linked_valid = self._check_link(name, value, input_type, info)
                if problem is not None:
                    errors.append(problem)
                if not linked_valid:
                    valid = False
                continue
            try:
                if isinstance(value, dict) and "__value__" in value:
                    value = value["__value__"]
                    inputs[name] = value
                value = _convert(input_type, value)
                inputs[name] = value
            except (TypeError, ValueError, OverflowError) as ex:
                errors.append(
                    _input_error(
                        "invalid_input_type",
                        f"Failed to convert an input value to a {input_type} value",
                        f"{name}, {value}, {ex}",
                        {
                            "input_name": name,
                            "input_config": info,
                            "received_value": value,
                            "exception_message": str(ex),
                        },
                    )
                )
                continue
            if name in checked:
                continue
            problem = _range_or_list(name, value, input_type, options, info)
            if problem is not None:
                errors.append(problem)

        if kind.check_inputs is not None:
            answer = kind.check_inputs(self.env, {n: inputs.get(n) for n in kind.checked_inputs})
            if answer is not True:
                for name in kind.checked_inputs:
                    details = name if answer is False else f"{name} - {answer}"
                    errors.append(
                        _input_error(
                            "custom_validation_failed",
                            "Custom validation failed for node",
                            details,
                            {"input_name": name},
                        )
                    )

        result = (not errors and valid, errors, node_id)
        self.validated[node_id] = result
        return result

    def _kind(self, class_type: str) -> NodeType:
        kind = self.node_type(class_type)
        if kind is None:  # run() checked every class first
            raise KeyError(class_type)
        return kind

    def _check_link(
        self, name: str, value: list[Any], input_type: Any, info: list[Any]
    ) -> tuple[dict[str, Any] | None, bool]:
        """(an error for this input or None, whether the linked node validated)."""
        if len(value) != 2:
            message = "Bad linked input, must be a length-2 list of [node_id, slot_index]"
            return _input_error(
                "bad_linked_input",
                message,
                name,
                {"input_name": name, "input_config": info, "received_value": value},
            ), True
        source_id, slot = value
        try:
            source = self.prompt[source_id]
        except (KeyError, TypeError) as ex:
            raise _Failure(ex, "lookup") from None
        source_kind = self._kind(source["class_type"])
        try:
            received = source_kind.outputs[slot]
        except (IndexError, TypeError) as ex:
            raise _Failure(_tuple_error(ex), "slot") from None
        if not types_match(received, input_type):
            details = f"{name}, received_type({received}) mismatch input_type({input_type})"
            return _input_error(
                "return_type_mismatch",
                "Return type mismatch between linked nodes",
                details,
                {
                    "input_name": name,
                    "input_config": info,
                    "received_type": received,
                    "linked_node": value,
                },
            ), True
        try:
            linked_ok, _, _ = self.validate(source_id)
        except _Failure as failure:
            reasons = [
                {
                    "type": "exception_during_inner_validation",
                    "message": "Exception when validating inner node",
                    "details": str(failure.cause),
                    "extra_info": {
                        "input_name": name,
                        "input_config": info,
                        "exception_message": str(failure.cause),
                        "exception_type": exception_type(failure.cause),
                        "traceback": failure.traceback("recurse", self.comfyui_dir),
                        "linked_node": value,
                    },
                }
            ]
            self.validated[source_id] = (False, reasons, source_id)
            return None, False
        return None, linked_ok


def _ordered(declared: dict[str, Any], definition: dict[str, Any]) -> list[str]:
    order = definition.get("input_order", {})
    names = [*order.get("required", []), *order.get("optional", [])]
    return [n for n in names if n in declared] + [n for n in declared if n not in names]


def types_match(received: Any, expected: Any) -> bool:
    """ComfyUI's `validate_node_input` (non-strict), with `*` matching anything as its IO types do."""
    if received == expected:
        return True
    if not isinstance(received, str) or not isinstance(expected, str):
        return False
    if received == "*" or expected == "*":
        return True
    mine = {t.strip() for t in received.split(",")}
    theirs = {t.strip() for t in expected.split(",")}
    return bool(mine & theirs)


def _convert(input_type: Any, value: Any) -> Any:
    if input_type == "INT":
        return int(value)
    if input_type == "FLOAT":
        return float(value)
    if input_type == "STRING":
        return str(value)
    if input_type == "BOOLEAN":
        return bool(value)
    return value


def _range_or_list(
    name: str, value: Any, input_type: Any, options: dict[str, Any], info: list[Any]
) -> dict[str, Any] | None:
    for bound, kind, words in (
        ("min", "value_smaller_than_min", "smaller than min"),
        ("max", "value_bigger_than_max", "bigger than max"),
    ):
        if bound not in options:
            continue
        try:
            beyond = value < options[bound] if bound == "min" else value > options[bound]
        except TypeError:  # ComfyUI would raise; a value that cannot compare is no number
            return None
        if beyond:
            message = f"Value {value} {words} of {options[bound]}"
            extra = {"input_name": name, "input_config": info, "received_value": value}
            return _input_error(kind, message, name, extra)
    if isinstance(input_type, list) and value not in input_type:
        if len(input_type) > 20:
            listed, config = f"(list of length {len(input_type)})", None
        else:
            listed, config = str(input_type), info
        details = f"{name}: '{value}' not in {listed}"
        return _input_error(
            "value_not_in_list",
            "Value not in list",
            details,
            {"input_name": name, "input_config": config, "received_value": value},
        )
    return None


def _tuple_error(ex: Exception) -> Exception:
    # ComfyUI's RETURN_TYPES is a tuple: say "tuple", not "list", as its message does.
    if isinstance(ex, IndexError):
        return IndexError("tuple index out of range")
    return TypeError(str(ex).replace("list indices", "tuple indices"))


def _input_error(kind: str, message: str, details: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "message": message, "details": details, "extra_info": extra}


def _error(kind: str, message: str, details: str) -> dict[str, Any]:
    return {"type": kind, "message": message, "details": details, "extra_info": {}}


def _refused(kind: str, message: str, details: str) -> Validation:
    return Validation(False, _error(kind, message, details), [], {})
