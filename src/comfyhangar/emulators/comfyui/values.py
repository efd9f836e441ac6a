"""What flows along the emulator's links: small descriptions instead of tensors.

An IMAGE is a `Picture` (size and, per batch item, a vertical gradient), a MASK a `Mask`, a LATENT
a `Latent` (the size of the image it decodes to, and that image's colours once sampled); models
and everything else opaque are `Handle`s. They are frozen and hashable, enough to write PNGs of
the right size, let a seed or a prompt change the colours, and pass anything through.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from comfyhangar.emulators.comfyui.images import RGB

Tone = tuple[RGB, RGB]  # top and bottom colour of one batch item

GREY: RGB = (0.5, 0.5, 0.5)


@dataclass(frozen=True)
class Picture:
    """An IMAGE batch: `width` x `height`, one gradient (`tones`) per batch item."""

    width: int
    height: int
    tones: tuple[Tone, ...]

    @property
    def batch(self) -> int:
        return len(self.tones)

    @staticmethod
    def flat(width: int, height: int, colour: RGB, batch: int = 1) -> Picture:
        return Picture(width, height, ((colour, colour),) * batch)

    def resized(self, width: int, height: int) -> Picture:
        return replace(self, width=max(1, width), height=max(1, height))

    def mapped(self, channel: Callable[[float], float]) -> Picture:
        """Each colour channel of every tone through `channel`."""
        return replace(
            self, tones=tuple((_map(t, channel), _map(b, channel)) for t, b in self.tones)
        )

    def __str__(self) -> str:  # what ComfyUI's format_value shows for a tensor, roughly
        return f"tensor(shape=[{self.batch}, {self.height}, {self.width}, 3])"


@dataclass(frozen=True)
class Mask:
    """A MASK batch: one value per batch item at the top and bottom rows (0..1)."""

    width: int
    height: int
    levels: tuple[tuple[float, float], ...]

    @property
    def batch(self) -> int:
        return len(self.levels)

    def __str__(self) -> str:
        return f"tensor(shape=[{self.batch}, {self.height}, {self.width}])"


@dataclass(frozen=True)
class Latent:
    """A LATENT: the pixel size it decodes to and, once sampled, the colours it decodes to."""

    width: int
    height: int
    batch: int = 1
    tones: tuple[Tone, ...] | None = None  # None: empty (never sampled)

    def __str__(self) -> str:
        return (
            f"{{'samples': tensor(shape=[{self.batch}, 4, {self.height // 8}, {self.width // 8}])}}"
        )


@dataclass(frozen=True)
class Handle:
    """Anything opaque: a MODEL, CLIP, VAE, CONDITIONING, SAMPLER, SIGMAS, NOISE, GUIDER ...

    `kind` is the ComfyUI type, `origin` what made it (a file name, a prompt text), `extra` what
    changed it on the way (LoRAs, guidance), `steps` the length of SIGMAS.
    """

    kind: str
    origin: str = ""
    extra: tuple[str, ...] = field(default=())
    steps: int = 0

    def with_extra(self, *notes: str) -> Handle:
        return replace(self, extra=(*self.extra, *notes))

    def __str__(self) -> str:
        return f"<{self.kind} {self.origin}>" if self.origin else f"<{self.kind}>"


def _map(colour: RGB, channel: Callable[[float], float]) -> RGB:
    r, g, b = colour
    return (channel(r), channel(g), channel(b))


def colour_of(*parts: object) -> RGB:
    """A stable colour for whatever determines an image (seed, prompt, model ...)."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return (digest[0] / 255.0, digest[1] / 255.0, digest[2] / 255.0)


def tones_of(batch: int, *parts: object) -> tuple[Tone, ...]:
    """One gradient per batch item, determined by `parts` (batch items differ)."""
    return tuple(
        (colour_of(*parts, i, "top"), colour_of(*parts, i, "bottom")) for i in range(batch)
    )


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """`a` moved towards `b` by `t` (0..1)."""
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t)


def target_size(
    size: tuple[int, int], width: int, height: int, minimum: int = 1
) -> tuple[int, int] | None:
    """The size a resize to `width` x `height` gives, a 0 side keeping the aspect ratio (as
    ComfyUI's scale nodes do); None when both are 0 (no resize)."""
    if width == 0 and height == 0:
        return None
    if width == 0:
        width = max(minimum, round(size[0] * height / size[1]))
    elif height == 0:
        height = max(minimum, round(size[1] * width / size[0]))
    return width, height
