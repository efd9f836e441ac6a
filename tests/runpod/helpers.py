"""Helpers for the RunPod client unit tests: canned bodies, a fast retry policy, a mock client."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import httpx

from comfyhangar.runpod import RetryPolicy, RunPodClient

API_KEY = "rpa_TESTKEY_0123456789abcdef"
BASE_URL = "https://runpod.test/v2"


def pod_json(pod_id: str = "pod1", **overrides: Any) -> dict[str, Any]:
    """A complete v2 Pod body (spec-valid), with `overrides` (camelCase) applied."""
    body: dict[str, Any] = {
        "id": pod_id,
        "name": "hangar-pod",
        "image": "runpod/pytorch:latest",
        "args": "",
        "disk": 50,
        "ports": ["8188/http"],
        "env": {},
        "registry": None,
        "status": "RUNNING",
        "actions": ["stop", "restart", "terminate"],
        "mounts": {},
        "gpu": {"id": "NVIDIA GeForce RTX 4090", "count": 1},
        "cloud": "SECURE",
        "dataCenterId": "US-TX-3",
        "cudaVersion": "12.8",
        "ssh": {"proxy": None, "direct": None},
        "template": None,
        "cost": 0.69,
        "locked": False,
        "globalNetworking": {"enabled": False},
        "runtime": None,
        "createdAt": "2026-11-26T07:00:00Z",
        "startedAt": None,
    }
    body.update(overrides)
    return body


def problem(status: int, detail: str, **headers: str) -> httpx.Response:
    """An RFC 9457 problem response."""
    titles = {400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden"}
    body = {"title": titles.get(status, "Error"), "status": status, "detail": detail}
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"content-type": "application/problem+json", **headers},
    )


class Sleeps:
    """A fake `sleep` that records the delays asked for."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def fast_policy(sleeps: Sleeps | None = None, **kwargs: Any) -> RetryPolicy:
    """A retry policy with tiny delays, a seeded RNG and (optionally) a recording sleep."""
    options: dict[str, Any] = {"base_delay": 0.001, "max_delay": 0.01, "rng": random.Random(7)}
    if sleeps is not None:
        options["sleep"] = sleeps
    options.update(kwargs)
    return RetryPolicy(**options)


Handler = Callable[[httpx.Request], httpx.Response]


def mock_client(handler: Handler, *, sleeps: Sleeps | None = None, **policy: Any) -> RunPodClient:
    """A `RunPodClient` whose network is `handler`."""
    return RunPodClient(
        API_KEY,
        BASE_URL,
        retry=fast_policy(sleeps or Sleeps(), **policy),
        transport=httpx.MockTransport(handler),
    )
