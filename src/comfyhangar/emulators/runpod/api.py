"""HTTP handlers for pods, logs, network volumes, templates and billing; `build_app`."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from comfyhangar.emulators.runpod import bodies, catalog_views, graphql
from comfyhangar.emulators.runpod.asgi import EmulatorApp, LostResponse, json_response
from comfyhangar.emulators.runpod.billing import parse_window, pod_billing, volume_billing
from comfyhangar.emulators.runpod.logs import SOURCES, parse_rfc3339
from comfyhangar.emulators.runpod.problems import bad_request, invalid, problem_response
from comfyhangar.emulators.runpod.query import boolean, choice, integer

if TYPE_CHECKING:
    from comfyhangar.emulators.runpod.emulator import RunPodEmulator


async def json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except ValueError:
        raise bad_request("request body is not valid JSON") from None


def _cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"pod:{seq}".encode()).decode().rstrip("=")


def _after(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, seq = text.partition(":")
        if kind == "pod" and seq.isdigit():
            return int(seq)
    except ValueError:
        pass
    raise bad_request("invalid cursor")


async def list_pods(emu: RunPodEmulator, request: Request, _: dict[str, str]) -> Response:
    boolean(request, "includeClusterPods")  # no clusters in the emulator: nothing to include
    cursor = request.query_params.get("cursor")
    after = _after(cursor) if cursor is not None else 0
    remaining = [pod for pod in emu.listed_pods() if pod.seq > after]
    page = remaining[: emu.config.page_size]
    more = len(remaining) > len(page)
    now = emu.now()
    return json_response(
        {
            "pods": [pod.to_api(now, emu.seed_text) for pod in page],
            "pagination": {
                "nextCursor": _cursor(page[-1].seq) if more else None,
                "hasNextPage": more,
            },
        }
    )


async def create_pod(emu: RunPodEmulator, request: Request, _: dict[str, str]) -> Response:
    pod = emu.create_pod(await json_body(request))
    body = json.dumps(pod.to_api(emu.now(), emu.seed_text)).encode()
    faults = emu.faults
    if faults.lose_create_responses > 0 and emu.fault_rng.random() < faults.lose_create_responses:
        mode = emu.fault_rng.choice(faults.lost_create_modes)
        if mode == "gateway":
            status = emu.fault_rng.choice((502, 504))
            return problem_response(status, "upstream did not answer in time")
        raise LostResponse(201, body, faults.stall_s if mode == "stall" else 0.0)
    return Response(body, status_code=201, media_type="application/json")


async def get_pod(emu: RunPodEmulator, _: Request, path: dict[str, str]) -> Response:
    return json_response(emu.api_pod(path["id"]).to_api(emu.now(), emu.seed_text))


async def patch_pod(emu: RunPodEmulator, request: Request, path: dict[str, str]) -> Response:
    changes = bodies.validate(bodies.UPDATE_POD, await json_body(request))
    pod = emu.update_pod(emu.api_pod(path["id"]), changes)
    return json_response(pod.to_api(emu.now(), emu.seed_text))


async def delete_pod(emu: RunPodEmulator, _: Request, path: dict[str, str]) -> Response:
    emu.api_pod(path["id"])
    emu.act(path["id"], "terminate")
    return Response(status_code=204)


async def pod_action(emu: RunPodEmulator, request: Request, path: dict[str, str]) -> Response:
    body = await json_body(request)
    emu.api_pod(path["id"])
    action = bodies.validate(bodies.POD_ACTION, body)["action"]
    pod = emu.act(path["id"], action)
    if action == "terminate":
        return Response(status_code=204)
    return json_response(pod.to_api(emu.now(), emu.seed_text))


async def pod_logs(emu: RunPodEmulator, request: Request, path: dict[str, str]) -> Response:
    pod = emu.api_pod(path["id"])
    source = choice(request, "source", SOURCES)
    tail = integer(request, "tail", minimum=0, maximum=5000)
    since_raw = request.query_params.get("since")
    since = parse_rfc3339(since_raw) if since_raw is not None else None
    if since_raw is not None and since is None:
        raise invalid(["$.since: must be an RFC 3339 date-time"])
    emu.materialize_logs(pod)
    last_id = request.headers.get("last-event-id")
    start = pod.logs.start_index(last_id, since, 100 if tail is None else tail, source)

    async def events() -> AsyncIterator[str]:
        index, last_write = start, time.monotonic()
        while True:
            emu.materialize_logs(pod)
            now = emu.now()
            fresh, index = pod.logs.lines[index:], len(pod.logs.lines)
            for line in fresh:
                if source in (None, line.source):
                    last_write = time.monotonic()
                    yield f"id: {line.event_id}\ndata: {json.dumps(line.payload())}\n\n"
            if pod.status(now) == "TERMINATED" and pod.logs.next_pending() is None:
                return
            keepalive = emu.config.keepalive_s
            wait = keepalive - (time.monotonic() - last_write)
            due = pod.logs.next_pending()
            if due is not None:
                wait = min(wait, emu.clock.real_seconds_until(due) + 0.005)
            event = emu.waiter()
            try:
                async with asyncio.timeout(max(wait, 0.0)):  # not wait_for: see event_hub
                    await event.wait()
            except TimeoutError:
                if time.monotonic() - last_write >= keepalive:
                    last_write = time.monotonic()
                    yield ": keepalive\n\n"
            finally:
                emu.forget(event)

    headers = {"Cache-Control": "no-cache", "Connection": "keep-alive", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


async def list_volumes(emu: RunPodEmulator, _: Request, __: dict[str, str]) -> Response:
    return json_response({"networkVolumes": [v.to_api() for v in emu.volumes()]})


async def create_volume(emu: RunPodEmulator, request: Request, _: dict[str, str]) -> Response:
    body = bodies.validate(bodies.CREATE_NETWORK_VOLUME, await json_body(request))
    volume = emu.create_network_volume(
        body["name"], int(body["size"]), body["dataCenter"], body.get("type")
    )
    return json_response(volume.to_api(), 201)


async def get_volume(emu: RunPodEmulator, _: Request, path: dict[str, str]) -> Response:
    return json_response(emu.volume(path["id"]).to_api())


async def patch_volume(emu: RunPodEmulator, request: Request, path: dict[str, str]) -> Response:
    changes = bodies.validate(bodies.UPDATE_NETWORK_VOLUME, await json_body(request))
    return json_response(emu.update_network_volume(path["id"], changes).to_api())


async def delete_volume(emu: RunPodEmulator, _: Request, path: dict[str, str]) -> Response:
    emu.delete_network_volume(path["id"])
    return Response(status_code=204)


TEMPLATE_DEFAULTS: dict[str, Any] = {
    "args": "",
    "disk": 50,
    "env": {},
    "ports": [],
    "registry": None,
    "mounts": {},
    "category": "NVIDIA",
    "public": False,
    "serverless": False,
    "startSsh": True,
    "startJupyter": True,
    "allowedCudaVersions": [],
}


async def list_templates(emu: RunPodEmulator, _: Request, __: dict[str, str]) -> Response:
    return json_response({"templates": emu.templates(owned=True)})


async def create_template(emu: RunPodEmulator, request: Request, _: dict[str, str]) -> Response:
    body = bodies.validate(bodies.CREATE_TEMPLATE, await json_body(request))
    template = {**TEMPLATE_DEFAULTS, **body, "id": emu.new_id(10)}
    return json_response(emu.save_template(template), 201)


async def get_template(emu: RunPodEmulator, _: Request, path: dict[str, str]) -> Response:
    return json_response(emu.template(path["id"]))


async def patch_template(emu: RunPodEmulator, request: Request, path: dict[str, str]) -> Response:
    changes = bodies.validate(bodies.UPDATE_TEMPLATE, await json_body(request))
    template = dict(emu.own_template(path["id"]))
    if changes.get("mounts") == {}:
        del changes["mounts"]
    return json_response(emu.save_template({**template, **changes}))


async def delete_template(emu: RunPodEmulator, _: Request, path: dict[str, str]) -> Response:
    emu.delete_template(path["id"])
    return Response(status_code=204)


async def billing_pods(emu: RunPodEmulator, request: Request, _: dict[str, str]) -> Response:
    now = emu.now()
    window = parse_window(request.query_params, now)
    pod_id = request.query_params.get("podId")
    return json_response(pod_billing(emu.billed_pods(), window, now, pod_id))


async def billing_volumes(emu: RunPodEmulator, request: Request, _: dict[str, str]) -> Response:
    now = emu.now()
    window = parse_window(request.query_params, now)
    volume_id = request.query_params.get("networkVolumeId")
    return json_response(volume_billing(emu.billed_volumes(), window, now, volume_id))


def build_app(emu: RunPodEmulator) -> EmulatorApp:
    """The ASGI app serving the emulated part of RunPod REST v2."""
    cv = catalog_views
    return EmulatorApp(
        emu,
        [
            ("/v2/pods", {"GET": list_pods, "POST": create_pod}),
            ("/v2/pods/{id}", {"GET": get_pod, "PATCH": patch_pod, "DELETE": delete_pod}),
            ("/v2/pods/{id}/action", {"POST": pod_action}),
            ("/v2/pods/{id}/logs", {"GET": pod_logs}),
            ("/v2/catalog/gpus", {"GET": cv.list_gpus}),
            ("/v2/catalog/gpus/{id}", {"GET": cv.get_gpu}),
            ("/v2/catalog/datacenters", {"GET": cv.list_datacenters}),
            ("/v2/catalog/datacenters/{id}", {"GET": cv.get_datacenter}),
            ("/v2/catalog/templates", {"GET": cv.list_catalog_templates}),
            ("/v2/network-volumes", {"GET": list_volumes, "POST": create_volume}),
            (
                "/v2/network-volumes/{id}",
                {"GET": get_volume, "PATCH": patch_volume, "DELETE": delete_volume},
            ),
            ("/v2/templates", {"GET": list_templates, "POST": create_template}),
            (
                "/v2/templates/{id}",
                {"GET": get_template, "PATCH": patch_template, "DELETE": delete_template},
            ),
            ("/v2/billing/pods", {"GET": billing_pods}),
            ("/v2/billing/network-volumes", {"GET": billing_volumes}),
            ("/graphql", {"POST": graphql.graphql}),
        ],
    )
