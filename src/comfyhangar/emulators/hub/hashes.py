"""The sha256 of the default catalog's synthetic files, computed once (they are tens of GB).

`HubFile.sha256` reads this table and computes what it lacks. After changing `content.py` or a
default file, rewrite the table (about three minutes):
`uv run python -m comfyhangar.emulators.hub.hashes`. A test checks a small default file's
entry against the bytes the stand-in serves, and that every default file has one.
"""

from __future__ import annotations

import re
from pathlib import Path

SYNTHETIC_SHA256: dict[str, str] = {
    "XLabs-AI/flux-RealismLora/lora.safetensors": "ca29db922094ab70a2db544d640ac3711d1e98483f0cfc20356818785148d25d",
    "comfyanonymous/flux_text_encoders/clip_l.safetensors": "410e339b2fb042aebff65677185a87317814caffac97f2942c133fefd9fd034d",
    "stabilityai/sdxl-vae/sdxl_vae.safetensors": "a3f92b9d9586ac4ae1c5b1dbd91df1f48cba3d310fefd2d31c5bb52227b2dee6",
    "black-forest-labs/FLUX.1-schnell/ae.safetensors": "1974c6773f590c2b180fe16644ebb35723a8b9c68648d2784127fc679a25db44",
    "alimama-creative/FLUX.1-Turbo-Alpha/diffusion_pytorch_model.safetensors": "699f00f406e99d12ff768e3749e4dcfcc62307452e0491da16abf9192e2bf6e7",
    "civitai/128713/dreamshaper_8.safetensors": "00ebe4d5042ae7016163ae7403a0da74f749aadf6ff3f755d38111f62468c631",
    "stabilityai/stable-diffusion-xl-base-1.0/sd_xl_base_1.0.safetensors": "956078d918f394b7cea64ecdbcdc7c59eb1c6a72edd8c7da28b74496330a050e",
    "comfyanonymous/flux_text_encoders/t5xxl_fp16.safetensors": "a920eb170c1e5b8794e957cf1ec34a5fed773d4288c2254ca76d598eae6c3a78",
    "black-forest-labs/FLUX.1-schnell/flux1-schnell.safetensors": "2f187680b5a6a27f7f755927e68de689ad2589b6126f0b835c9ce048b40b8a3a",
    "black-forest-labs/FLUX.1-dev/flux1-dev.safetensors": "afb1269b8ba8b00bc8683f94f9bd4e2cabcff833a4f424fd93f666d79e6cfff8",
}


def main() -> None:
    """Compute the table afresh and write it into this file."""
    from comfyhangar.emulators.hub.catalog import default_synthetic_files
    from comfyhangar.emulators.hub.content import sha256_of

    rows = "".join(f'    "{s.seed}": "{sha256_of(s)}",\n' for s in default_synthetic_files())
    path = Path(__file__)
    table = "SYNTHETIC_SHA256: dict[str, str] = {\n" + rows + "}\n"
    pattern = r"SYNTHETIC_SHA256: dict\[str, str\] = \{.*?\}\n"
    text = re.sub(pattern, table, path.read_text(), count=1, flags=re.S)
    path.write_text(text)


if __name__ == "__main__":
    main()
