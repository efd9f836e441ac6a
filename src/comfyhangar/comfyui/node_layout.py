"""The inputs and widgets the ComfyUI frontend (1.27) gives a node, derived from `/object_info`.

A UI workflow stores widget values by position (`widgets_values`), so converting it needs the
exact widget list the frontend builds for each node class: one widget per input of a widget type
(INT, FLOAT, STRING, BOOLEAN, COMBO, ...) in `input_order`, plus the hidden ones the frontend adds
(the `control_after_generate` combo after a seed, the filter list after a controlled combo, the
upload button of LoadImage-like nodes, the extra widgets of its core extensions). The result is
checked against the layouts the real frontend builds for every class of the reference server
(`tests/comfyui/fixtures/frontend/node_layouts.json`).

Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from comfyhangar.comfyui.widget_values import js_string

# Input types the frontend draws as a widget (core widget constructors and the widget types its
# core extensions register). Any other type is a socket only.
WIDGET_TYPES = frozenset(
    {
        "INT",
        "FLOAT",
        "BOOLEAN",
        "STRING",
        "MARKDOWN",
        "COMBO",
        "IMAGEUPLOAD",
        "FILEUPLOAD",
        "COLOR",
        "IMAGECOMPARE",
        "TREESELECT",
        "MULTISELECT",
        "CHART",
        "GALLERIA",
        "SELECTBUTTON",
        "TEXTAREA",
        "LOAD_3D",
        "LOAD_3D_ANIMATION",
        "PREVIEW_3D",
        "PREVIEW_3D_ANIMATION",
        "AUDIO_UI",
        "AUDIOUPLOAD",
        "AUDIO_RECORD",
        "WEBCAM",
    }
)
# Node types that exist only in the editor; never sent to the server.
FRONTEND_ONLY_TYPES = frozenset({"PrimitiveNode", "Reroute", "Note", "MarkdownNote"})
# The legacy convention: an INT input with one of these names gets a control widget.
LEGACY_SEED_NAMES = ("seed", "noise_seed")
# Load-time renames the frontend applies to old class names.
RENAMED_TYPES = {
    "T2IAdapterLoader": "ControlNetLoader",
    "ConditioningAverage ": "ConditioningAverage",
    "SDV_img2vid_Conditioning": "SVD_img2vid_Conditioning",
}
# Nodes whose `filename_prefix` gets %date:...% / %Node.widget% replacements at queue time.
SAVE_NODE_TYPES = frozenset(
    {
        "SaveImage",
        "SaveAnimatedWEBP",
        "SaveWEBM",
        "SaveAudio",
        "SaveGLB",
        "SaveAnimatedPNG",
        "CLIPSave",
        "VAESave",
        "ModelSave",
        "LoraSave",
        "SaveLatent",
    }
)
AUDIO_PLAYER_TYPES = frozenset(
    {"LoadAudio", "SaveAudio", "PreviewAudio", "SaveAudioMP3", "SaveAudioOpus"}
)
PREVIEW_3D_TYPES = {
    "Preview3D": "PREVIEW_3D",
    "Preview3DAnimation": "PREVIEW_3D_ANIMATION",
    "SaveGLB": "PREVIEW_3D",
}
# Titles of the frontend's English locale for classes whose /object_info has no display name.
LOCALE_TITLES = {
    "ImageBlend": "Image Blend",
    "ImageBlur": "Image Blur",
    "ImageQuantize": "Image Quantize",
    "ImageScaleToTotalPixels": "Scale Image to Total Pixels",
    "ImageSharpen": "Image Sharpen",
}
_ANNOTATION = re.compile(r"\[(input|output|temp)\]", re.IGNORECASE)
_UPLOAD_FLAGS = ("image_upload", "video_upload", "animated_image_upload")


@dataclass(frozen=True, slots=True)
class Widget:
    """One widget of a node, in the frontend's order."""

    name: str
    default: Any
    consumes_value: bool = True
    """Takes the next entry of `widgets_values` when the node is loaded."""
    in_prompt: bool = True
    """Written to the API prompt under `name`."""
    dynamic_prompts: bool = False
    """`{a|b}` choices and `//` comments are resolved when queued."""
    text_box: bool = False
    """A multiline text box: whatever is stored becomes text (a list reads "a,b")."""
    upload_folder: str | None = None
    """The file combo of an upload widget: an empty value falls back to `upload_initial`, and
    a file of a folder other than input/ gets a ` [folder]` suffix."""
    upload_initial: str | None = None


@dataclass(frozen=True, slots=True)
class Socket:
    """One input slot; `widget` names the widget it can replace, if any."""

    name: str
    type: str
    widget: str | None = None


@dataclass(frozen=True, slots=True)
class NodeLayout:
    """What the frontend builds for one node class."""

    class_type: str
    title: str
    sockets: tuple[Socket, ...]
    widgets: tuple[Widget, ...]
    output_types: tuple[str, ...]
    migration_counts: tuple[tuple[int, bool], ...]
    """Per original widget input (definition order): values it stored, and whether it is a
    `forceInput` (a socket whose stale value old files still carry)."""
    migration_total: int = 0
    """The number of values an old file stored: the sum of `migration_counts`."""

    def widget(self, name: str) -> Widget | None:
        return next((w for w in self.widgets if w.name == name), None)


def _spec_type(spec: list[Any]) -> str:
    kind = spec[0] if spec else "*"
    return "COMBO" if isinstance(kind, list) else str(kind)


def _options(spec: list[Any]) -> dict[str, Any]:
    return spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}


def _combo_values(spec: list[Any]) -> list[Any]:
    if spec and isinstance(spec[0], list):
        return list(spec[0])
    values = _options(spec).get("options")
    return list(values) if isinstance(values, list) else []


def _definition_inputs(definition: Mapping[str, Any]) -> dict[str, tuple[list[Any], bool]]:
    """name -> (spec, optional): required then optional, plus the frontend's upload input."""
    section = definition.get("input") or {}
    required = dict(section.get("required") or {})
    for name, spec in list(required.items()):
        opts = _options(spec)
        if any(opts.get(flag) is True for flag in _UPLOAD_FLAGS) and _spec_type(spec) == "COMBO":
            required["upload"] = ["IMAGEUPLOAD", {**opts, "imageInputName": name}]
            break
    required.update(_extension_inputs(definition, required))
    inputs = {name: (spec, False) for name, spec in required.items()}
    inputs.update({n: (s, True) for n, s in (section.get("optional") or {}).items()})
    return inputs


def _extension_inputs(
    definition: Mapping[str, Any], required: Mapping[str, list[Any]]
) -> dict[str, list[Any]]:
    """Inputs the frontend's core extensions add to some classes before building them."""
    name = definition.get("name")
    added: dict[str, list[Any]] = {}
    if name in AUDIO_PLAYER_TYPES:
        added["audioUI"] = ["AUDIO_UI", {}]
    audio = required.get("audio")
    if audio and _options(audio).get("audio_upload") is True:
        added["upload"] = ["AUDIOUPLOAD", {}]
    if name in PREVIEW_3D_TYPES:
        added["image"] = [PREVIEW_3D_TYPES[str(name)]]
    return added


def _ordered(definition: Mapping[str, Any], inputs: dict[str, tuple[list[Any], bool]]) -> list[str]:
    order = definition.get("input_order")
    if not order:
        return list(inputs)
    names = [n for n in order.get("required") or [] if n in inputs and not inputs[n][1]]
    names += [n for n in order.get("optional") or [] if n in inputs and inputs[n][1]]
    return names + [n for n in inputs if n not in names]


def _control_name(opts: Mapping[str, Any], default: str) -> str:
    named = opts.get(default)
    if isinstance(named, str):
        return named
    prefix = opts.get("control_prefix")
    return f"{prefix} {default}" if prefix else default


def _default(opts: Mapping[str, Any], fallback: Any) -> Any:
    """JavaScript's `default ?? fallback`: a null default counts as none."""
    value = opts.get("default")
    return fallback if value is None else value


def _widgets_for(name: str, kind: str, opts: dict[str, Any]) -> list[Widget]:
    """The widget(s) the frontend creates for one input."""
    if kind == "INT":
        widgets = [Widget(name, _default(opts, 0))]
        control = opts.get("control_after_generate")
        if control is None:
            control = name in LEGACY_SEED_NAMES
        if control:
            cname = _control_name(opts, "control_after_generate")
            widgets.append(Widget(cname, "randomize", in_prompt=False))
        return widgets
    if kind == "FLOAT":
        return [Widget(name, _default(opts, 0))]
    if kind == "BOOLEAN":
        return [Widget(name, _default(opts, False))]
    if kind in ("STRING", "TEXTAREA", "MARKDOWN"):
        dynamic = opts.get("dynamicPrompts") is True
        text_box = kind == "STRING" and bool(opts.get("multiline"))
        default = _default(opts, "")
        if text_box:
            default = dom_text(default)
        return [Widget(name, default, dynamic_prompts=dynamic, text_box=text_box)]
    if kind == "COMBO":
        return _combo_widgets(name, opts)
    if kind in ("IMAGEUPLOAD", "AUDIOUPLOAD"):
        return [Widget(name, "image" if kind == "IMAGEUPLOAD" else "", in_prompt=False)]
    if kind == "AUDIO_UI":
        return [Widget(name, "", consumes_value=False)]
    if kind == "AUDIO_RECORD":
        return [Widget(name, ""), Widget(name, "", in_prompt=False)]
    if kind in ("LOAD_3D", "LOAD_3D_ANIMATION"):
        return [
            Widget("upload 3d model", "upload3dmodel"),
            Widget("upload extra resources", "uploadExtraResources"),
            Widget("clear", "clear"),
            Widget(name, ""),
        ]
    if kind in ("PREVIEW_3D", "PREVIEW_3D_ANIMATION", "WEBCAM"):
        return [Widget(name, "")]
    return [Widget(name, opts.get("default"))]


def _combo_widgets(name: str, opts: dict[str, Any]) -> list[Widget]:
    values = opts.get("_values") or []
    default = opts.get("default") or (values[0] if values else None)
    remote = opts.get("remote")
    if default is None and remote:
        default = "Loading..."
    if opts.get("_upload_target"):
        # The upload widget wraps the file combo: it reports formatted file names from then on.
        initial = "undefined" if default is None else js_string(default)  # `${value}`
        folder = str(opts.get("image_folder") or "input")
        widget = Widget(
            name,
            annotate_file(initial, folder),
            upload_folder=folder,
            upload_initial=initial,
        )
    else:
        widget = Widget(name, default)
    widgets = [widget]
    if isinstance(remote, dict):
        widgets.append(Widget("Auto-refresh after generation", False, in_prompt=False))
        if remote.get("refresh_button"):
            widgets.append(Widget("refresh", "refresh"))
    if opts.get("control_after_generate"):
        control = _control_name(opts, "control_after_generate")
        widgets.append(Widget(control, "randomize", in_prompt=False))
        filter_name = _control_name(opts, "control_filter_list")
        widgets.append(Widget(filter_name, "", in_prompt=False))
    return widgets


def annotate_file(name: str, folder: str) -> str:
    """`createAnnotatedPath`: `name [folder]` unless the folder is input/ or already named."""
    if folder == "input" or _ANNOTATION.search(name):
        return name
    return f"{name} [{folder}]"


def dom_text(value: Any) -> str:
    """What a browser text box holds after `box.value = value` (null reads as empty)."""
    return "" if value is None else js_string(value)


def build_layout(class_type: str, definition: Mapping[str, Any]) -> NodeLayout:
    """The frontend's sockets and widgets for `class_type`, from its `/object_info` entry."""
    inputs = _definition_inputs(definition)
    upload_target = next(
        (s[1]["imageInputName"] for s, _ in inputs.values() if _spec_type(s) == "IMAGEUPLOAD"),
        None,
    )
    ordered = _ordered(definition, inputs)
    sockets: list[Socket] = []
    widget_inputs: list[Socket] = []
    widgets: list[Widget] = []
    for name in ordered:
        spec, _optional = inputs[name]
        kind, opts = _spec_type(spec), _options(spec)
        if kind not in WIDGET_TYPES or opts.get("forceInput"):
            sockets.append(Socket(name, kind))
            continue
        extra = {"_values": _combo_values(spec), "_upload_target": name == upload_target}
        widgets.extend(_widgets_for(name, kind, {**opts, **extra}))
        widget_inputs.append(Socket(name, kind, name))
    sockets.extend(widget_inputs)
    widgets.extend(_extension_widgets(class_type))
    migration = []
    widget_names = {w.name for w in widgets}
    for name, (spec, _optional) in inputs.items():
        opts = _options(spec)
        if name in widget_names or opts.get("forceInput"):
            controlled = opts.get("control_after_generate") or name in LEGACY_SEED_NAMES
            migration.append((2 if controlled else 1, bool(opts.get("forceInput"))))
    outputs = tuple(
        "COMBO" if isinstance(t, list) else str(t) for t in definition.get("output") or []
    )
    title = (
        definition.get("display_name")
        or LOCALE_TITLES.get(class_type)
        or definition.get("name")
        or class_type
    )
    return NodeLayout(
        class_type,
        str(title),
        tuple(sockets),
        tuple(widgets),
        outputs,
        tuple(migration),
        sum(count for count, _forced in migration),
    )


def _extension_widgets(class_type: str) -> list[Widget]:
    """Widgets the frontend's core extensions append to specific classes."""
    if class_type == "PreviewAny":
        return [Widget("preview", "", consumes_value=False)]
    if class_type == "WebcamCapture":
        # The capture button (the converter refuses this node: it needs a camera).
        return [Widget("waiting for camera...", "capture")]
    return []


class NodeCatalog:
    """Layouts of every class of one `/object_info`, built on first use."""

    def __init__(self, object_info: Mapping[str, Any]) -> None:
        self._info = object_info
        self._layouts: dict[str, NodeLayout] = {}

    def __contains__(self, class_type: object) -> bool:
        return class_type in self._info

    def layout(self, class_type: str) -> NodeLayout:
        """The layout of a known class (KeyError for an unknown one)."""
        found = self._layouts.get(class_type)
        if found is None:
            found = self._layouts[class_type] = build_layout(class_type, self._info[class_type])
        return found
