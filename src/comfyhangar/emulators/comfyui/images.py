"""Real image files from the standard library: PNGs like SaveImage writes, JPEG previews, sizes.

The emulator's pictures are smooth vertical gradients (a colour at the top, one at the bottom, per
batch item), so a PNG row is one colour and compresses to almost nothing, and a preview is one
colour and encodes to a tiny baseline JPEG without a DCT.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Mapping

RGB = tuple[float, float, float]  # each channel 0.0 .. 1.0

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _byte(channel: float) -> int:
    # ComfyUI: np.clip(255. * image, 0, 255).astype(np.uint8) truncates.
    return int(min(255.0, max(0.0, channel * 255.0)))


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def row_colour(top: RGB, bottom: RGB, y: int, height: int) -> tuple[int, int, int]:
    """The 8-bit colour of row `y` of a `height`-row gradient from `top` to `bottom`."""
    t = y / (height - 1) if height > 1 else 0.0
    r, g, b = (a + (c - a) * t for a, c in zip(top, bottom, strict=True))
    return _byte(r), _byte(g), _byte(b)


def encode_png(
    width: int,
    height: int,
    top: RGB,
    bottom: RGB,
    text: Mapping[str, str] | None = None,
    compress_level: int = 4,
) -> bytes:
    """An 8-bit RGB PNG of a vertical gradient, with `text` as tEXt chunks (as PIL's PngInfo).

    ComfyUI's SaveImage adds one chunk `prompt` and one per `extra_pnginfo` key (`workflow`),
    each the JSON text of the value; json.dumps output is ASCII, so tEXt (Latin-1) holds it.
    """
    if width < 1 or height < 1:
        raise ValueError("a PNG needs at least one pixel")
    raw = bytearray()
    previous: tuple[int, int, int] | None = None
    row = b""
    for y in range(height):
        colour = row_colour(top, bottom, y, height)
        if colour != previous:
            row = b"\x00" + bytes(colour) * width
            previous = colour
        raw += row
    out = bytearray(PNG_SIGNATURE)
    out += _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    for key, value in (text or {}).items():
        out += _chunk(b"tEXt", key.encode("latin-1") + b"\x00" + value.encode("latin-1"))
    out += _chunk(b"IDAT", zlib.compress(bytes(raw), compress_level))
    out += _chunk(b"IEND", b"")
    return bytes(out)


def png_text(data: bytes) -> dict[str, str]:
    """The tEXt chunks of a PNG (key -> text)."""
    found: dict[str, str] = {}
    for kind, body in _png_chunks(data):
        if kind == b"tEXt":
            key, _, value = body.partition(b"\x00")
            found[key.decode("latin-1")] = value.decode("latin-1")
    return found


def _png_chunks(data: bytes) -> Iterable[tuple[bytes, bytes]]:
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG")
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        yield kind, data[pos + 8 : pos + 8 + length]
        pos += 12 + length


_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # PNG colour type -> samples per pixel (8-bit only)


def png_edges(data: bytes) -> tuple[RGB, RGB, tuple[float, float] | None] | None:
    """The colours of the first pixel of the top and bottom rows of an 8-bit PNG, and its alpha.

    Enough to carry an uploaded image's look into the emulator's gradient pictures. Only the
    first column is unfiltered: for it, every PNG filter reduces to "add the pixel above".
    None for PNGs it does not read (palette, 16-bit, interlaced) and for other formats.
    """
    try:
        chunks = list(_png_chunks(data))
    except ValueError:
        return None
    header = next((body for kind, body in chunks if kind == b"IHDR"), b"")
    if len(header) < 13:
        return None
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", header[:13])
    channels = _CHANNELS.get(colour_type)
    if depth != 8 or channels is None or interlace or width < 1 or height < 1:
        return None
    try:
        raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    except zlib.error:
        return None
    stride = 1 + width * channels
    if len(raw) < stride * height:
        return None
    above = [0] * channels
    first: list[int] = []
    for y in range(height):
        row = raw[y * stride : y * stride + 1 + channels]
        kind, pixel = row[0], row[1:]
        if kind in (2, 4):
            above = [(p + a) & 0xFF for p, a in zip(pixel, above, strict=True)]
        elif kind == 3:
            above = [(p + a // 2) & 0xFF for p, a in zip(pixel, above, strict=True)]
        else:  # None and Sub leave the first pixel as it is
            above = list(pixel)
        if y == 0:
            first = above
    last = above

    def rgb(pixel: list[int]) -> RGB:
        if channels in (1, 2):
            return (pixel[0] / 255.0, pixel[0] / 255.0, pixel[0] / 255.0)
        return (pixel[0] / 255.0, pixel[1] / 255.0, pixel[2] / 255.0)

    alpha = (first[-1] / 255.0, last[-1] / 255.0) if channels in (2, 4) else None
    return rgb(first), rgb(last), alpha


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, JPEG, GIF or WebP file from its header; None if unknown."""
    if data.startswith(PNG_SIGNATURE) and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_size(data)
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    kind = data[12:16]
    if kind == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if kind == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return int(width), int(height)
        pos += 2 + length
    return None


# --- baseline JPEG of one colour ------------------------------------------------------------

# Annex K luminance / chrominance quantisation tables (zig-zag order does not matter for the
# DC term, the only one a flat image uses; the tables are written as they are).
_LUMA_Q = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69,
    56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104,
    113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
_CHROMA_Q = (17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99) + (
    99,
) * 44
# Annex K DC tables (code lengths 1..16, then the symbols 0..11).
_DC_LUMA_BITS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
_DC_CHROMA_BITS = (0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0)
# A flat block has no AC energy: its AC table needs only EOB (symbol 0x00), one 1-bit code.
_AC_BITS = (1,) + (0,) * 15


def _scaled(table: tuple[int, ...], quality: int) -> list[int]:
    scale = 5000 // quality if quality < 50 else 200 - quality * 2
    return [min(255, max(1, (q * scale + 50) // 100)) for q in table]


def _huffman_codes(bits: tuple[int, ...]) -> list[tuple[int, int]]:
    """Canonical (code, length) per symbol index, from the count of codes of each length."""
    codes: list[tuple[int, int]] = []
    code = 0
    for length, count in enumerate(bits, start=1):
        for _ in range(count):
            codes.append((code, length))
            code += 1
        code <<= 1
    return codes


class _BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self._acc = 0
        self._n = 0

    def write(self, value: int, length: int) -> None:
        self._acc = (self._acc << length) | (value & ((1 << length) - 1))
        self._n += length
        while self._n >= 8:
            self._n -= 8
            byte = (self._acc >> self._n) & 0xFF
            self.out.append(byte)
            if byte == 0xFF:
                self.out.append(0x00)  # byte stuffing
        self._acc &= (1 << self._n) - 1

    def flush(self) -> bytes:
        if self._n:
            self.write((1 << (8 - self._n)) - 1, 8 - self._n)  # pad with ones
        return bytes(self.out)


def _segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body


def encode_flat_jpeg(width: int, height: int, colour: RGB, quality: int = 95) -> bytes:
    """A baseline JFIF JPEG (4:4:4) of one colour; ComfyUI's previews are quality-95 JPEGs."""
    if width < 1 or height < 1:
        raise ValueError("a JPEG needs at least one pixel")
    r, g, b = (c * 255.0 for c in colour)
    ycc = (
        0.299 * r + 0.587 * g + 0.114 * b,
        -0.168736 * r - 0.331264 * g + 0.5 * b + 128.0,
        0.5 * r - 0.418688 * g - 0.081312 * b + 128.0,
    )
    luma_q, chroma_q = _scaled(_LUMA_Q, quality), _scaled(_CHROMA_Q, quality)
    # The DC coefficient of a flat 8x8 block of level-shifted value v is 8 * v.
    dc = [round(8.0 * (max(0.0, min(255.0, v)) - 128.0) / q) for v, q in zip(ycc, (luma_q[0], chroma_q[0], chroma_q[0]), strict=True)]  # fmt: skip
    dc_codes = (_huffman_codes(_DC_LUMA_BITS), _huffman_codes(_DC_CHROMA_BITS))
    eob_code, eob_len = _huffman_codes(_AC_BITS)[0]

    bits = _BitWriter()
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    previous = [0, 0, 0]
    for _ in range(blocks):
        for component in range(3):
            diff = dc[component] - previous[component]
            previous[component] = dc[component]
            size = abs(diff).bit_length()
            code, length = dc_codes[0 if component == 0 else 1][size]
            bits.write(code, length)
            if size:
                bits.write(diff if diff > 0 else diff - 1, size)
            bits.write(eob_code, eob_len)
    scan = bits.flush()

    def dht(table_class: int, table_id: int, counts: tuple[int, ...], symbols: bytes) -> bytes:
        return bytes(((table_class << 4) | table_id, *counts)) + symbols

    out = bytearray(b"\xff\xd8")
    out += _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    out += _segment(0xDB, bytes((0, *luma_q)) + bytes((1, *chroma_q)))
    components = b"\x01\x11\x00\x02\x11\x01\x03\x11\x01"
    out += _segment(0xC0, struct.pack(">BHHB", 8, height, width, 3) + components)
    out += _segment(
        0xC4,
        dht(0, 0, _DC_LUMA_BITS, bytes(range(12)))
        + dht(1, 0, _AC_BITS, b"\x00")
        + dht(0, 1, _DC_CHROMA_BITS, bytes(range(12)))
        + dht(1, 1, _AC_BITS, b"\x00"),
    )
    out += _segment(0xDA, b"\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00")
    out += scan
    out += b"\xff\xd9"
    return bytes(out)


def contain(width: int, height: int, box: int) -> tuple[int, int]:
    """The size PIL's `ImageOps.contain(image, (box, box))` gives (keeps the aspect ratio)."""
    ratio = width / height
    if ratio > 1:  # wider than tall: the width fills the box
        return box, max(1, round(height / width * box))
    if ratio < 1:
        return max(1, round(width / height * box)), box
    return box, box
