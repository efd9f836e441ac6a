"""`comfyhangar gpus`: the GPU catalog with prices and stock."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.text import Text

from comfyhangar.cli.options import CloudChoice, JsonOpt, TierChoice, UrlOpt
from comfyhangar.cli.output import friendly, out, print_json
from comfyhangar.cli.render import gpu_listing
from comfyhangar.cli.session import session


@friendly
def gpus(
    cloud: Annotated[
        CloudChoice,
        typer.Option(case_sensitive=False, help="Stock and sort order for this cloud"),
    ] = CloudChoice.SECURE,
    tier: Annotated[
        list[TierChoice] | None,
        typer.Option(case_sensitive=False, help="Only these price tiers (repeatable)"),
    ] = None,
    min_vram: Annotated[
        int | None, typer.Option("--min-vram", help="Only GPUs with at least this many GB")
    ] = None,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
) -> None:
    """List GPU types with price per hour, VRAM, largest machine and stock, cheapest first."""
    with session(url, as_json) as client:
        catalog = client.get("/gpus", cloud=cloud.value)
    key = cloud.value.lower()
    rows = [
        g
        for g in catalog["gpus"]
        if (not tier or g["tier"] in {t.value for t in tier})
        and (min_vram is None or g["vram_gb"] >= min_vram)
    ]
    rows.sort(key=lambda g: (_price(g, key), g["vram_gb"], g["id"]))
    if as_json:
        print_json({"cloud": cloud.value, "gpus": rows})
        return
    console = out()
    console.print(gpu_listing(console, rows, cloud.value))
    console.print(Text(f"{len(rows)} GPU types", style="dim"))


def _price(gpu: dict[str, Any], key: str) -> float:
    value = gpu["price_per_hour"].get(key)
    return float(value) if value is not None else float("inf")
