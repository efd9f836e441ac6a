"""The emulated pod's `output/`, `input/` and `temp/` folders, with ComfyUI's rules for each.

Where a save goes and how it is numbered (`folder_paths.get_save_image_path`), what `/view` may
read (`..` and absolute names are 400, a subfolder that escapes is 403), how an upload is named
(`name (1).png` when the name is taken by other bytes), and which inputs LoadImage lists.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from comfyhangar.emulators.comfyui.nodes.placeholders import is_image_file

FOLDER_TYPES = ("output", "input", "temp")


class PathRefused(Exception):
    """A path that ComfyUI refuses; `status` is its HTTP answer (400 or 403)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"refused with {status}")
        self.status = status


@dataclass(frozen=True)
class SaveTarget:
    """Where the next files of a save go: folder, base name, first counter, subfolder."""

    folder: Path
    filename: str
    counter: int
    subfolder: str


class PodFiles:
    """The three folders under `root` (created if missing). `temp/` starts empty, as at start-up."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.output = root / "output"
        self.input = root / "input"
        self.temp = root / "temp"
        shutil.rmtree(self.temp, ignore_errors=True)
        for folder in (self.output, self.input, self.temp):
            folder.mkdir(parents=True, exist_ok=True)

    def folder(self, kind: str) -> Path | None:
        """The folder of a `type` (`output`, `input`, `temp`), None for anything else."""
        return {"output": self.output, "input": self.input, "temp": self.temp}.get(kind)

    def save_target(self, prefix: str, kind: str, width: int, height: int) -> SaveTarget:
        """`get_save_image_path`: expand `%width%` & co, split off the subfolder, count on."""
        base = self.output if kind == "output" else self.temp
        if "%" in prefix:
            prefix = _expand(prefix, width, height)
        normal = os.path.normpath(prefix)
        subfolder = os.path.dirname(normal)
        filename = os.path.basename(normal)
        folder = Path(os.path.join(base, subfolder))
        if os.path.commonpath((str(base), os.path.abspath(folder))) != str(base):
            raise ValueError(
                "**** ERROR: Saving image outside the output folder is not allowed."
                f"\n full_output_folder: {os.path.abspath(folder)}\n         output_dir: {base}"
                f"\n         commonpath: {os.path.commonpath((str(base), os.path.abspath(folder)))}"
            )
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            folder.mkdir(parents=True, exist_ok=True)
            names = []
        counters = [_counter_of(name, filename) for name in names]
        found = [c for c in counters if c is not None]
        return SaveTarget(folder, filename, max(found) + 1 if found else 1, subfolder)

    def viewable(self, filename: str, kind: str | None, subfolder: str | None) -> Path:
        """The file `/view` serves for these query values; raises PathRefused or FileNotFoundError."""
        name, annotated = annotated_name(filename)
        if not name:
            raise PathRefused(400)
        if name[0] == "/" or ".." in name:
            raise PathRefused(400)
        base = self.folder(annotated or kind or "output")
        if base is None:
            raise PathRefused(400)
        folder = str(base)
        if subfolder is not None:
            candidate = os.path.join(folder, subfolder)
            if os.path.commonpath((os.path.abspath(candidate), folder)) != folder:
                raise PathRefused(403)
            folder = candidate
        path = Path(folder) / os.path.basename(name)
        if not path.is_file():
            raise FileNotFoundError(str(path))
        return path

    def input_path(self, name: str) -> Path | None:
        """A LoadImage value (`x.png`, `sub/x.png`, `x.png [output]`) as a file inside our folders."""
        bare, annotated = annotated_name(name)
        base = self.folder(annotated or "input")
        if base is None or not bare:
            return None
        path = Path(os.path.abspath(os.path.join(base, bare)))
        # ComfyUI would follow `..` out of input/; the emulator never reads outside its folders.
        if os.path.commonpath((str(path), str(base))) != str(base) or not path.is_file():
            return None
        return path

    def input_images(self) -> list[str]:
        """LoadImage's choices: image files at the top level of `input/`, sorted."""
        names = [p.name for p in self.input.iterdir() if p.is_file()]
        return sorted(n for n in names if is_image_file(n))

    def store_upload(
        self, filename: str, data: bytes, kind: str | None, subfolder: str, overwrite: bool
    ) -> tuple[str, str, str]:
        """Save an upload as `/upload/image` does: (final name, subfolder, type)."""
        kind = kind or "input"
        base = self.folder(kind)
        if base is None:
            base, kind = self.input, "input"
        folder = os.path.join(base, os.path.normpath(subfolder))
        path = os.path.abspath(os.path.join(folder, filename))
        if os.path.commonpath((str(base), path)) != str(base):
            raise PathRefused(400)
        os.makedirs(folder, exist_ok=True)
        stem, ext = os.path.splitext(filename)
        if not overwrite:
            i = 1
            while os.path.exists(path):
                if _same_bytes(Path(path), data):
                    return filename, subfolder, kind
                filename = f"{stem} ({i}){ext}"
                path = os.path.join(folder, filename)
                i += 1
        Path(path).write_bytes(data)
        return filename, subfolder, kind


def annotated_name(name: str) -> tuple[str, str | None]:
    """`folder_paths.annotated_filepath`: strip a ` [output]` / ` [input]` / ` [temp]` suffix."""
    for kind in FOLDER_TYPES:
        suffix = f"[{kind}]"
        if name.endswith(suffix):
            return name[: -len(suffix) - 1], kind
    return name, None


def _same_bytes(path: Path, data: bytes) -> bool:
    return hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(data).digest()


def _counter_of(name: str, filename: str) -> int | None:
    """The counter of `<filename>_<digits>_...` (ComfyUI's `map_filename` and its filter)."""
    prefix = name[: len(filename) + 1]
    if os.path.normcase(prefix[:-1]) != os.path.normcase(filename) or prefix[-1:] != "_":
        return None
    try:
        return int(name[len(filename) + 1 :].split("_")[0])
    except ValueError:
        return 0


def _expand(prefix: str, width: int, height: int) -> str:
    now = time.localtime()
    for key, value in (
        ("%width%", str(width)),
        ("%height%", str(height)),
        ("%year%", str(now.tm_year)),
        ("%month%", str(now.tm_mon).zfill(2)),
        ("%day%", str(now.tm_mday).zfill(2)),
        ("%hour%", str(now.tm_hour).zfill(2)),
        ("%minute%", str(now.tm_min).zfill(2)),
        ("%second%", str(now.tm_sec).zfill(2)),
    ):
        prefix = prefix.replace(key, value)
    return prefix
