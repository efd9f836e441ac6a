"""Pack the agent into a pod create request: a zip in an env var and a one-line `args`.

The pod pulls nothing from us: `pod_launch()` returns the env var that carries the agent (a
deterministic zip of this package, plus the manifest, base64-encoded) and the `args` command line
that unpacks it and runs it with the image's own Python::

    python3 -I -S -c '<unpack HANGAR_AGENT_BUNDLE to /tmp/hangar-agent; run comfyhangar.agent>'

`-I -S` keep whatever the image has installed out of the agent's way (it is standard library
only). The server adds the secrets (HANGAR_POD_TOKEN, HF_TOKEN, CIVITAI_TOKEN) to the same env.
Standard library only, so the server and the tests can import it without the rest.
"""

from __future__ import annotations

import base64
import io
import json
import shlex
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BUNDLE_ENV = "HANGAR_AGENT_BUNDLE"
DEFAULT_UNPACK_DIR = "/tmp/hangar-agent"  # noqa: S108 - fresh per container start
_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class PodLaunch:
    """What goes into the create request: `env` to merge, and the `args` string."""

    env: dict[str, str]
    args: str


def build_bundle(manifest: dict[str, Any] | None = None) -> bytes:
    """A deterministic zip: `comfyhangar/agent/*.py`, a stub package, and `manifest.json`."""
    here = Path(__file__).resolve().parent
    files: dict[str, bytes] = {"comfyhangar/__init__.py": b'"""Agent-only bundle."""\n'}
    for path in sorted(here.glob("*.py")):
        files[f"comfyhangar/agent/{path.name}"] = path.read_bytes()
    if manifest is not None:
        files["manifest.json"] = json.dumps(manifest, indent=1).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, _EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data, compresslevel=9)
    return buf.getvalue()


def launch_args(
    agent_args: Sequence[str], python: str = "python3", unpack_dir: str = DEFAULT_UNPACK_DIR
) -> str:
    """The one-line command that unpacks `$HANGAR_AGENT_BUNDLE` and runs the agent."""
    code = ";".join(
        [
            "import base64,io,os,runpy,shutil,sys,zipfile",
            f"d={json.dumps(unpack_dir)}",
            "shutil.rmtree(d,ignore_errors=True)",
            f"zipfile.ZipFile(io.BytesIO(base64.b64decode(os.environ[{json.dumps(BUNDLE_ENV)}])))"
            ".extractall(d)",
            "sys.path.insert(0,d)",
            f'sys.argv=["comfyhangar.agent"]+{json.dumps(list(agent_args))}',
            'runpy.run_module("comfyhangar.agent",run_name="__main__",alter_sys=True)',
        ]
    )
    return f"{shlex.quote(python)} -I -S -c {shlex.quote(code)}"


def pod_launch(
    manifest: dict[str, Any],
    *,
    root: str = "/workspace",
    extra_args: Sequence[str] = (),
    python: str = "python3",
    unpack_dir: str = DEFAULT_UNPACK_DIR,
    stay_on_failure: bool = True,
) -> PodLaunch:
    """Env and `args` that run `agent run` on the pod with `manifest` under `root`.

    By default the agent stays up after a failure (`--stay-on-failure`): a container that exits
    would be restarted and set up again and again while the GPU bills.
    """
    bundle = base64.b64encode(build_bundle(manifest)).decode("ascii")
    agent_args = ["run", "--manifest", f"{unpack_dir}/manifest.json", "--root", root]
    if stay_on_failure:
        agent_args.append("--stay-on-failure")
    return PodLaunch(
        env={BUNDLE_ENV: bundle},
        args=launch_args([*agent_args, *extra_args], python=python, unpack_dir=unpack_dir),
    )
