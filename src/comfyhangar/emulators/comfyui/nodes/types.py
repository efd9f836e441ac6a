"""What a node class is to the emulator: its `/object_info` entry and how it runs.

A pod's custom nodes are added the same way as the core ones: a `NodeType` with the definition
their ComfyUI would report. Without a `run`, a node passes its first input of each output type
through (or makes a neutral value) after `Timing.node_s`, which is how an unknown custom node
behaves in every test that only needs the graph to flow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from comfyhangar.emulators.comfyui.images import RGB
from comfyhangar.emulators.comfyui.values import Picture


@dataclass(frozen=True)
class Timing:
    """Simulated seconds that work takes (a GPU pod's order of magnitude, not a benchmark).

    - `node_s`: every node that runs.
    - `load_s`: a model loader (once: its output is cached like any node's).
    - `step_s`: one sampler step for a 1-megapixel image (scaled by pixels and batch),
      never less than `min_step_s`.
    - `decode_s`: VAE decode/encode per megapixel per image.
    - `image_op_s`: an image operation (blur, scale, ...) per megapixel per image.
    """

    node_s: float = 0.01
    load_s: float = 2.0
    step_s: float = 0.12
    min_step_s: float = 0.02
    decode_s: float = 0.15
    image_op_s: float = 0.05

    def sampler_step(self, width: int, height: int, batch: int) -> float:
        return max(self.min_step_s, self.step_s * width * height * batch / 1_048_576)

    def per_megapixel(self, rate: float, width: int, height: int, batch: int) -> float:
        return self.node_s + rate * width * height * batch / 1_048_576


@dataclass(frozen=True)
class NodeOutput:
    """What a node returns: one value per declared output, and its UI output (if any)."""

    values: tuple[Any, ...] = ()
    ui: dict[str, list[Any]] | None = None


class RunContext(Protocol):
    """What a running node may do; the executor provides it."""

    node_id: str
    timing: Timing

    async def work(self, seconds: float) -> None:
        """Let `seconds` of simulated time pass (an interrupt waits until the next node)."""

    async def step(
        self,
        value: int,
        total: int,
        preview: RGB | None = None,
        size: tuple[int, int] | None = None,
    ) -> None:
        """Report progress `value`/`total`, with a preview of colour `preview` for an image of
        `size`. An interrupt stops the node here, as at every sampler step in ComfyUI."""

    def save_images(self, picture: Picture, prefix: str, *, temp: bool) -> list[dict[str, str]]:
        """Write the batch as PNGs the way SaveImage (or PreviewImage) does; their descriptors."""

    def send_text(self, text: str) -> None:
        """Send a binary TEXT frame for this node (to every socket, as ComfyUI does)."""

    def input_path(self, name: str) -> Path | None:
        """The file `name` (with an optional ` [input]`-style suffix) names, or None if absent."""

    @property
    def previews(self) -> bool:
        """Whether samplers send previews (`--preview-method` is not `none`)."""


class NodeEnvironment(Protocol):
    """What validation and fingerprints may look at: the emulated pod's files."""

    def input_path(self, name: str) -> Path | None:
        """As `RunContext.input_path`."""


Behaviour = Callable[[RunContext, dict[str, Any]], Awaitable[NodeOutput]]
InputCheck = Callable[[NodeEnvironment, Mapping[str, Any]], bool | str]


@dataclass(frozen=True)
class NodeType:
    """One node class: its `/object_info` entry and its behaviour.

    - `definition`: the entry as ComfyUI reports it; may hold `placeholders` for file lists.
    - `run`: the behaviour; None for the pass-through default.
    - `v3`: written with ComfyUI's V3 node schema. Its COMBO inputs are declared as
      `["COMBO", {"options": ...}]`, which ComfyUI 0.3.64 does not check at submit time.
    - `check_inputs` with `checked_inputs`: a `VALIDATE_INPUTS` of its own, taking those inputs
      (it replaces the list/range checks of them) and answering True or a reason.
    - `fingerprint`: an `IS_CHANGED`; its value joins the cache key (LoadImage: the file's hash).
    """

    definition: Mapping[str, Any]
    run: Behaviour | None = None
    v3: bool = False
    check_inputs: InputCheck | None = None
    checked_inputs: tuple[str, ...] = ()
    fingerprint: Callable[[NodeEnvironment, Mapping[str, Any]], object] | None = field(
        default=None, compare=False
    )

    @property
    def name(self) -> str:
        return str(self.definition["name"])

    @property
    def output_node(self) -> bool:
        return bool(self.definition.get("output_node", False))

    @property
    def outputs(self) -> list[str]:
        return [str(t) for t in self.definition.get("output", [])]

    @property
    def hidden(self) -> Mapping[str, Any]:
        hidden: Mapping[str, Any] = self.definition.get("input", {}).get("hidden", {})
        return hidden

    @property
    def takes_unique_id(self) -> bool:
        """A hidden UNIQUE_ID input: ComfyUI then keys its cache by node id as well."""
        return any(_hidden_kind(v) == "UNIQUE_ID" for v in self.hidden.values())

    def input_spec(self, name: str) -> tuple[str | None, Any, dict[str, Any]]:
        """(category, type, options) of input `name`, like ComfyUI's `get_input_info`."""
        inputs = self.definition.get("input", {})
        for category in ("required", "optional", "hidden"):
            spec = inputs.get(category, {}).get(name)
            if spec is None:
                continue
            if isinstance(spec, str):  # V1 hidden inputs are bare strings ("PROMPT")
                return category, spec, {}
            options = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
            return category, spec[0], options
        return None, None, {}

    def declared_inputs(self) -> list[str]:
        """Required then optional input names, in `input_order`."""
        order = self.definition.get("input_order", {})
        inputs = self.definition.get("input", {})
        names: list[str] = []
        for category in ("required", "optional"):
            names += order.get(category, list(inputs.get(category, {})))
        return names


def _hidden_kind(value: Any) -> str:
    if isinstance(value, list) and value:
        return str(value[0])
    return str(value)
