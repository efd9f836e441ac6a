"""Command line: `python -m comfyhangar.agent run --manifest FILE --root DIR [options]`.

Also `validate MANIFEST` (exit 2 and the reason on stderr if it is invalid) and `schema`
(the manifest JSON Schema).

Secrets come from the environment (HF_TOKEN, CIVITAI_TOKEN, HANGAR_POD_TOKEN); `--token` exists
for local use but shows in the process list. Exit codes: 0 ready (or setup complete with
`--skip-start`), 1 a step failed, 2 bad usage or manifest, 3 ComfyUI exited.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

from .download import DownloadOptions
from .idle_switch import DEFAULT_API_URL, SwitchOptions
from .manifest import MANIFEST_SCHEMA, ManifestError, Policy, check_url, load_manifest
from .protocol import Reporter
from .proxy import valid_token
from .runner import EXIT_USAGE, SKIPPABLE, RunConfig, run
from .service import ServiceOptions
from .sources import Sources


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the docs and the tests)."""
    parser = argparse.ArgumentParser(prog="python -m comfyhangar.agent", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="install ComfyUI, nodes and models, then serve")
    p.add_argument("--manifest", required=True, type=Path, help="manifest JSON file")
    p.add_argument("--root", required=True, type=Path, help="work directory (e.g. /workspace)")
    p.add_argument("--comfyui-dir", type=Path, help="ComfyUI checkout (default ROOT/ComfyUI)")
    p.add_argument("--python", default=sys.executable, help="interpreter ComfyUI runs on")
    p.add_argument("--pip-arg", action="append", default=[], help="extra pip argument")
    p.add_argument(
        "--insecure-allow-http",
        action="store_true",
        help="TESTS ONLY: allow http:// downloads and file:// git repositories",
    )
    p.add_argument("--allow-host", action="append", default=[], help="extra download host")
    p.add_argument("--hf-endpoint", default="https://huggingface.co")
    p.add_argument("--civitai-endpoint", default="https://civitai.com")
    p.add_argument("--token", help="pod token (prefer env HANGAR_POD_TOKEN)")
    p.add_argument(
        "--idle-check-s", type=float, default=30.0,
        help="seconds between the idle switch's looks (it acts only without word from the server)",
    )  # fmt: skip
    p.add_argument("--proxy-host", default="0.0.0.0")  # noqa: S104 - token-checked proxy
    p.add_argument("--proxy-port", type=int, default=8188)
    p.add_argument("--comfyui-port", type=int, default=18188)
    p.add_argument("--comfyui-arg", action="append", default=[], help="extra ComfyUI argument")
    p.add_argument("--skip", action="append", default=[], choices=SKIPPABLE, help="skip a step")
    p.add_argument("--skip-start", action="store_true", help="same as --skip start")
    p.add_argument("--exit-when-ready", action="store_true", help="stop once ready (tests)")
    p.add_argument(
        "--stay-on-failure",
        action="store_true",
        help="after a failure, wait for SIGTERM instead of exiting",
    )
    p.add_argument("--ready-timeout", type=float, default=900.0, help="seconds")
    p.add_argument("--no-gpu-ok", action="store_true", help="a missing GPU is only reported")
    p.add_argument("--connections", type=int, default=16, help="parallel download connections")
    p.add_argument("--segment-mb", type=int, default=32, help="download segment size in MiB")
    p.add_argument("--retries", type=int, default=6, help="retries per segment without progress")
    p.add_argument("--backoff", type=float, default=1.0, help="first retry delay, seconds")
    v = sub.add_parser("validate", help="check a manifest; print it normalized, or the error")
    v.add_argument("manifest", type=Path)
    v.add_argument("--insecure-allow-http", action="store_true")
    v.add_argument("--allow-host", action="append", default=[])
    sub.add_parser("schema", help="print the manifest JSON Schema")
    return parser  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "schema":
        print(json.dumps(MANIFEST_SCHEMA, indent=2))  # noqa: T201 - the command's output
        return 0
    if args.command == "validate":
        return _validate(args)
    hf_token = os.environ.get("HF_TOKEN") or None
    civitai_token = os.environ.get("CIVITAI_TOKEN") or None
    pod_token = args.token or os.environ.get("HANGAR_POD_TOKEN") or ""
    pod_key = os.environ.get("RUNPOD_API_KEY") or ""  # pod-scoped, given by RunPod
    rep = Reporter(secrets=[t for t in (hf_token, civitai_token, pod_token, pod_key) if t])
    skip = set(args.skip) | ({"start"} if args.skip_start else set())
    policy = Policy(allow_insecure=args.insecure_allow_http).with_hosts(args.allow_host)
    try:
        manifest = load_manifest(args.manifest, policy)
        sources = Sources(args.hf_endpoint, args.civitai_endpoint, hf_token, civitai_token)
        for endpoint in (args.hf_endpoint, args.civitai_endpoint):
            _check_endpoint(endpoint, policy)
        if "start" not in skip and not _token_ok(pod_token):
            raise ValueError("HANGAR_POD_TOKEN (or --token) must be 16-256 of [A-Za-z0-9._~-]")
    except (ManifestError, ValueError) as exc:
        rep.log(f"invalid input: {exc}")
        rep.progress("preflight", "failed", error=f"invalid input: {exc}")
        return EXIT_USAGE
    cfg = RunConfig(
        root=args.root.resolve(),
        comfyui_dir=(args.comfyui_dir or args.root / "ComfyUI").resolve(),
        python=args.python,
        sources=sources,
        download=DownloadOptions(
            connections=max(1, args.connections), segment_size=max(1, args.segment_mb) << 20,
            retries=max(0, args.retries), backoff_s=max(0.0, args.backoff),
            allow_http=args.insecure_allow_http,
        ),
        service=ServiceOptions(
            token=pod_token, proxy_host=args.proxy_host, proxy_port=args.proxy_port,
            comfyui_port=args.comfyui_port, ready_timeout_s=args.ready_timeout,
            comfyui_args=list(args.comfyui_arg), exit_when_ready=args.exit_when_ready,
            idle_switch=_idle_switch(args, pod_key),
        ),
        pip_args=list(args.pip_arg),
        skip=skip,
        no_gpu_ok=args.no_gpu_ok,
        allow_file_repos=args.insecure_allow_http,
    )  # fmt: skip
    rep.log(f"agent starting: root {cfg.root}, ComfyUI {cfg.comfyui_dir}")
    code = run(manifest, cfg, rep)
    if code != 0 and args.stay_on_failure:
        _wait_for_stop(rep)
    return code


def _idle_switch(args: argparse.Namespace, pod_key: str) -> SwitchOptions | None:
    """The dead man's switch, when RunPod gave this pod its id and pod-scoped key. Off (limit
    0) until the server's guard says its policy, or what it said last (kept on the volume)."""
    pod_id = os.environ.get("RUNPOD_POD_ID") or ""
    if not pod_id or not pod_key:
        return None
    return SwitchOptions(
        limit_s=0.0,
        pod_id=pod_id,
        api_key=pod_key,
        api_url=os.environ.get("HANGAR_RUNPOD_API_URL") or DEFAULT_API_URL,
        comfyui_port=args.comfyui_port,
        state_file=args.root.resolve() / ".hangar" / "idle-limit.json",
        check_every_s=max(0.1, args.idle_check_s),
    )


def _wait_for_stop(rep: Reporter) -> None:
    """Idle until SIGTERM/SIGINT, so a failed pod does not crash-loop while it bills."""
    stopped: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stopped.append(signum))
    rep.log("setup failed; staying up so the failure can be read (stop the pod to end)")
    while not stopped:
        time.sleep(0.2)


def _validate(args: argparse.Namespace) -> int:
    policy = Policy(allow_insecure=args.insecure_allow_http).with_hosts(args.allow_host)
    try:
        manifest = load_manifest(args.manifest, policy)
    except ManifestError as exc:
        print(f"invalid manifest: {exc}", file=sys.stderr)  # noqa: T201
        return EXIT_USAGE
    print(json.dumps(manifest.raw, indent=2, sort_keys=True))  # noqa: T201
    return 0


def _check_endpoint(url: str, policy: Policy) -> None:
    check_url(url, policy, "endpoint")


def _token_ok(token: str) -> bool:
    return valid_token(token)
