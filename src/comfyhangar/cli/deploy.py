"""`comfyhangar deploy`: a new deployment, followed until ComfyUI is ready."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from comfyhangar.cli.client import ApiError, CliError, HangarClient
from comfyhangar.cli.deployments import SETTLED, finish
from comfyhangar.cli.follow import Follower
from comfyhangar.cli.options import CloudChoice, JsonOpt, UrlOpt
from comfyhangar.cli.output import (
    did_you_mean,
    err,
    friendly,
    gpu_label,
    out,
    print_json,
    short_id,
)
from comfyhangar.cli.session import session
from comfyhangar.cli.tokens import CIVITAI, HF, Token, ask_token, find_token, token_hints


@friendly
def deploy(
    name: Annotated[str, typer.Argument(help="Deployment name: letters, digits, . _ -")],
    gpu: Annotated[str, typer.Option("--gpu", help="GPU type id (or its name), see `gpus`")],
    count: Annotated[int, typer.Option("--count", "-n", help="GPUs on the machine")] = 1,
    fallback_gpu: Annotated[
        list[str] | None,
        typer.Option("--fallback-gpu", help="Try this GPU type if the first has no stock"),
    ] = None,
    cloud: Annotated[
        CloudChoice, typer.Option(case_sensitive=False, help="SECURE or COMMUNITY")
    ] = CloudChoice.SECURE,
    dc: Annotated[
        list[str] | None, typer.Option("--dc", help="Allowed data center (repeatable)")
    ] = None,
    disk: Annotated[
        int | None, typer.Option("--disk", help="Container disk in GB (server default 50)")
    ] = None,
    volume: Annotated[
        int | None, typer.Option("--volume", help="Volume disk in GB (server default 100)")
    ] = None,
    network_volume: Annotated[
        str | None, typer.Option("--network-volume", help="Attach this network volume instead")
    ] = None,
    image: Annotated[str | None, typer.Option(help="Container image")] = None,
    preset: Annotated[
        str | None,
        typer.Option(
            help="Install this preset's models and nodes; `comfyhangar presets` lists them"
        ),
    ] = None,
    manifest: Annotated[
        Path | None,
        typer.Option(help="JSON file: what to install (ComfyUI, custom nodes, models)"),
    ] = None,
    env: Annotated[
        list[str] | None, typer.Option("--env", "-e", help="K=V for the pod (repeatable)")
    ] = None,
    hf_token_file: Annotated[
        Path | None,
        typer.Option(
            "--hf-token-file",
            help="File holding a Hugging Face token (- for stdin) [default: env HF_TOKEN]",
            show_default=False,
        ),
    ] = None,
    civitai_token_file: Annotated[
        Path | None,
        typer.Option(
            "--civitai-token-file",
            help="File holding a Civitai token (- for stdin) [default: env CIVITAI_TOKEN]",
            show_default=False,
        ),
    ] = None,
    idle_minutes: Annotated[
        int | None,
        typer.Option(
            "--idle-minutes",
            help="Stop (or terminate) after this many idle minutes [server default]",
        ),
    ] = None,
    idle_action: Annotated[
        str | None,
        typer.Option("--idle-action", help="stop, terminate or off when idle [server default]"),
    ] = None,
    detach: Annotated[
        bool, typer.Option("--detach", "-d", help="Return once accepted; do not follow")
    ] = False,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
) -> None:
    """Deploy ComfyUI on a new pod and follow it until ComfyUI is ready (Ctrl-C: keep it running).

    Tokens for gated models come from HF_TOKEN / CIVITAI_TOKEN or the token file options; for a
    gated preset with none, a terminal is asked for one (hidden). They are never printed.
    """
    body: dict[str, Any] = {"name": name, "gpu": {"id": gpu, "count": count}}
    body["cloud"] = cloud.value
    optional = {
        "fallback_gpu_ids": fallback_gpu or None,
        "data_center_ids": dc or None,
        "container_disk_gb": disk,
        "volume_gb": volume,
        "network_volume_id": network_volume,
        "image": image,
        "preset": preset,
        "manifest": _read_manifest(manifest) if manifest is not None else None,
        "env": _parse_env(env) if env else None,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    idle = {"idle_minutes": idle_minutes, "mode": idle_action}
    if any(v is not None for v in idle.values()):
        body["idle"] = {k: v for k, v in idle.items() if v is not None}
    tokens = [
        t
        for t in (find_token(HF, hf_token_file), find_token(CIVITAI, civitai_token_file))
        if t is not None
    ]
    with session(url, as_json) as client:
        if preset is not None:
            chosen = _preset(client, preset)
            if chosen["needs_hf_token"] and not any(t.kind is HF for t in tokens):
                gated = sorted({m["source"]["repo"] for m in chosen["models"] if m["gated"]})
                asked = ask_token(HF, f"{preset} has gated models ({', '.join(gated)})")
                tokens += [asked] if asked is not None else []
        _gpu_names_to_ids(client, body)
        if tokens and not as_json:
            err().print(
                Text(
                    "Using the "
                    + " and the ".join(f"{t.kind.service} token from {t.source}" for t in tokens)
                    + ".",
                    style="dim",
                )
            )
        created = _create(client, {**body, **{t.kind.field: t.value for t in tokens}}, tokens)
        ref = short_id(created["id"])
        if detach:
            if as_json:
                print_json(created)
                return
            out().print(
                Text.assemble(
                    "Deploying ",
                    (created["name"], "bold"),
                    f" ({ref}) on {gpu_label(created['gpu']['id'], created['gpu']['count'])}. ",
                    ("Follow it: ", "dim"),
                    f"comfyhangar show {ref} -f",
                )
            )
            return
        if not as_json:
            out().print(
                Text.assemble(
                    "Deploying ",
                    (created["name"], "bold"),
                    f" ({ref}) on {gpu_label(created['gpu']['id'], created['gpu']['count'])}"
                    f" in the {created['cloud']} cloud",
                )
            )
        try:
            outcome = Follower(client, created, until=SETTLED, quiet=as_json).run()
        except KeyboardInterrupt:
            billing = "" if created.get("simulated") else " (and billing while its pod runs)"
            err().print(
                f"Stopped following. {created['name']} ({ref}) keeps going{billing}.\n"
                f"  follow it again: comfyhangar show {ref} -f\n"
                f"  stop it:         comfyhangar stop {ref}"
            )
            raise typer.Exit(130) from None
        finish(outcome, target="ready", as_json=as_json, base_url=client.base_url)


def _preset(client: HangarClient, preset_id: str) -> dict[str, Any]:
    """The preset named `preset_id`; an unknown one is a usage error naming the close ones."""
    presets: list[dict[str, Any]] = client.get("/presets")["presets"]
    for p in presets:
        if p["id"] == preset_id:
            return p
    ids = [p["id"] for p in presets]
    raise CliError(
        f"unknown preset {preset_id!r}{did_you_mean(preset_id, ids) or '.'} The presets are "
        f"{', '.join(ids)} (`comfyhangar presets` describes them).",
        exit_code=2,
    )


def _create(client: HangarClient, body: dict[str, Any], tokens: list[Token]) -> dict[str, Any]:
    """POST the deployment; a preflight refusal over a token says which one and how to give it."""
    try:
        created: dict[str, Any] = client.post("/deployments", body)
    except ApiError as exc:
        hints = (
            token_hints(exc.problem, tokens)
            if exc.problem.get("code") == "preflight_failed"
            else []
        )
        if not hints:
            raise
        raise CliError("\n".join([exc.message, *hints])) from None
    return created


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"cannot read the manifest {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CliError(f"the manifest {path} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise CliError(f"the manifest {path} must be a JSON object")
    return value


def _parse_env(pairs: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r} is not K=V", param_hint="--env")
        env[key] = value
    return env


def _gpu_names_to_ids(client: HangarClient, body: dict[str, Any]) -> None:
    """Accept a GPU's display name ("RTX 4090") where its id is expected."""
    catalog = client.get("/gpus", cloud=body["cloud"])["gpus"]
    ids = {g["id"] for g in catalog}
    by_name: dict[str, list[str]] = {}
    for g in catalog:
        for label in {g["id"].lower(), g["name"].lower()}:
            by_name.setdefault(label, []).append(g["id"])

    def canonical(value: str) -> str:
        if value in ids:
            return value
        found = by_name.get(value.lower(), [])
        return found[0] if len(found) == 1 else value

    body["gpu"]["id"] = canonical(body["gpu"]["id"])
    if "fallback_gpu_ids" in body:
        body["fallback_gpu_ids"] = [canonical(v) for v in body["fallback_gpu_ids"]]
