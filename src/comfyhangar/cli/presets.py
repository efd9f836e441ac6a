"""`comfyhangar presets`: the model sets `deploy --preset` installs."""

from __future__ import annotations

from rich.text import Text

from comfyhangar.cli.options import JsonOpt, UrlOpt
from comfyhangar.cli.output import friendly, out, print_json
from comfyhangar.cli.render import preset_listing
from comfyhangar.cli.session import session


@friendly
def presets(as_json: JsonOpt = False, url: UrlOpt = None) -> None:
    """List the presets for `deploy --preset`: id, size, whether a token is needed, models."""
    with session(url, as_json) as client:
        listed = client.get("/presets")
    if as_json:
        print_json(listed)
        return
    console = out()
    console.print(preset_listing(listed["presets"]))
    console.print(
        Text("Deploy one: comfyhangar deploy NAME --gpu GPU --preset ID", style="dim"),
        soft_wrap=True,
    )
