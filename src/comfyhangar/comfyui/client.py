"""An async client of one ComfyUI server (or a pod's token proxy in front of one).

HTTP goes through httpx to the `/api/...` routes (every ComfyUI since 0.2 serves them, and a
proxy can route `/api` alone); progress comes over the WebSocket (`events()`, stream.py).

Money first: a prompt is queued under an id the caller chose and recorded, and `submit` looks
for that id in `/queue` and `/history/{id}` before every post, so a retry after a crash, a
timeout or a lost answer never queues the same work twice (ComfyUI itself does not de-duplicate
ids). `cancel` only ever touches the given prompt.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from comfyhangar.comfyui.errors import (
    ComfyUIError,
    ComfyUIHTTPError,
    ComfyUIUnreachable,
    PromptRejected,
)
from comfyhangar.comfyui.events import Event
from comfyhangar.comfyui.object_info import ObjectInfo, ObjectInfoCache
from comfyhangar.comfyui.stream import EventStream, PromptFinished
from comfyhangar.comfyui.wire import (
    OutputFile,
    PromptLocation,
    PromptResult,
    QueueState,
    Submission,
    UploadedFile,
)

USER_AGENT = "comfyhangar-comfyui/1"
#: Longer than RunPod's proxy timeout (100 s): a submit that times out was given up by the proxy.
SUBMIT_TIMEOUT_S = 120.0
_GATEWAY = (502, 503, 504)
_AIOHTTP_500 = "Server got itself in trouble"  # an exception in a ComfyUI handler
_RANDOM = secrets.SystemRandom()


@dataclass(frozen=True)
class Retry:
    """How reads and an unclear submit are tried again.

    - `attempts`: tries of a read (GET) or of one submit, the first included.
    - `base_delay`, `max_delay`: full-jitter exponential backoff between tries.
    - `settle_s`: after a submit whose outcome is unknown, wait this long before looking for the
      prompt (a request still travelling through a proxy must land first).
    - `sleep`: injectable for tests.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    settle_s: float = 2.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")

    def delay(self, retry_number: int) -> float:
        return _RANDOM.uniform(0.0, min(self.max_delay, self.base_delay * 2 ** min(retry_number, 20)))  # fmt: skip


@dataclass(frozen=True)
class DownloadedFile:
    path: Path
    size: int
    sha256: str


class ComfyUIClient:
    """A client of the ComfyUI at `base_url`; `headers` go with every request (the pod token).

    `timeout` bounds each read; `submit_timeout` a submit or upload (keep it above the proxy's
    own timeout, so that a timeout means the proxy gave up and the outcome is settled).

    Use as `async with ComfyUIClient(url, headers=...) as comfy:`. One client keeps one
    connection pool and, while `events()` is open, one WebSocket with its `client_id`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        submit_timeout: float = SUBMIT_TIMEOUT_S,
        retry: Retry | None = None,
        object_info_cache: ObjectInfoCache | None = None,
        client_id: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("base_url must be an http(s) URL")
        self.base_url = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
        self._headers = dict(headers or {})
        self.retry = retry or Retry()
        self.submit_timeout = submit_timeout
        self.client_id = client_id or secrets.token_hex(16)
        self._object_info = ObjectInfoCache() if object_info_cache is None else object_info_cache
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            headers={"User-Agent": USER_AGENT, **self._headers},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
        )

    def __repr__(self) -> str:  # never the headers: they hold the pod token
        return f"ComfyUIClient({self.base_url!r})"

    async def __aenter__(self) -> ComfyUIClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def websocket_url(self) -> str:
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return urlunsplit((scheme, parts.netloc, parts.path + "/api/ws", f"clientId={quote(self.client_id)}", ""))  # fmt: skip

    @property
    def websocket_headers(self) -> dict[str, str]:
        return {"User-Agent": USER_AGENT, **self._headers}

    # --- HTTP plumbing -----------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        reads: bool,
        time_limit: float | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request; reads are tried again on no answer or a gateway error."""
        attempts = self.retry.attempts if reads else 1
        failure: ComfyUIUnreachable | None = None
        for number in range(attempts):
            if number:
                await self.retry.sleep(self.retry.delay(number - 1))
            try:
                if time_limit is not None:
                    kwargs["timeout"] = time_limit
                response = await self._http.request(method, "api" + path, **kwargs)
            except httpx.TransportError as error:
                failure = _unreachable(method, path, error)
                continue
            if response.status_code in _GATEWAY:
                failure = ComfyUIUnreachable(
                    f"{method} {_shown(path)}: {response.status_code} from the proxy",
                    status=response.status_code,
                    outcome_unknown=True,
                )
                continue
            if response.status_code == 401:
                raise ComfyUIHTTPError(
                    f"{method} {_shown(path)}: 401, the token proxy refused the pod token",
                    status=401,
                )
            return response
        assert failure is not None  # noqa: S101 - the loop ran at least once
        raise failure

    async def _json(self, method: str, path: str, *, reads: bool = True, **kwargs: Any) -> Any:
        response = await self._send(method, path, reads=reads, **kwargs)
        if response.status_code != 200:
            raise _unexpected(method, path, response)
        try:
            return response.json()
        except ValueError:
            raise _unexpected(method, path, response) from None

    async def _post_empty(self, path: str, body: Mapping[str, Any]) -> None:
        """A POST that ComfyUI answers with an empty 200 (safe to repeat: deletes, interrupts)."""
        response = await self._send("POST", path, reads=True, json=dict(body))
        if response.status_code != 200:
            raise _unexpected("POST", path, response)

    # --- reads -------------------------------------------------------------------------------

    async def system_stats(self) -> dict[str, Any]:
        """Versions, RAM and the device (`/system_stats`)."""
        stats: dict[str, Any] = await self._json("GET", "/system_stats")
        return stats

    async def queue(self) -> QueueState:
        return QueueState.parse(await self._json("GET", "/queue"))

    async def history(self, prompt_id: str) -> PromptResult | None:
        """The finished prompt, or None (ComfyUI says `{}` while it runs and when unknown)."""
        body = await self._json("GET", f"/history/{quote(prompt_id, safe='')}")
        entry = body.get(prompt_id) if isinstance(body, dict) else None
        return PromptResult.from_history(prompt_id, entry) if isinstance(entry, dict) else None

    async def queue_remaining(self) -> int:
        """How many prompts run or wait (`GET /prompt`: a few bytes, unlike `/queue`)."""
        body = await self._json("GET", "/prompt")
        try:
            return int(body["exec_info"]["queue_remaining"])
        except (KeyError, TypeError, ValueError) as error:
            raise ComfyUIHTTPError(f"unexpected /prompt body: {error}", status=200) from None

    async def newest_history_id(self) -> str | None:
        """The prompt id of the newest history entry (`/history?max_items=1`), None if empty."""
        body = await self._json("GET", "/history", params={"max_items": 1})
        if not isinstance(body, dict):
            raise ComfyUIHTTPError("unexpected /history body: not an object", status=200)
        return str(next(reversed(body))) if body else None

    async def locate(self, prompt_id: str) -> PromptLocation:
        """Where `prompt_id` is. The queue is read first: a prompt leaves it only for the history,
        so one absent from both (read in that order) is unknown to the server."""
        where = (await self.queue()).find(prompt_id)
        if where is not None:
            return PromptLocation(where)
        result = await self.history(prompt_id)
        return PromptLocation("done", result) if result is not None else PromptLocation("unknown")

    async def object_info(self, *, node_set: str | None = None, refresh: bool = False) -> ObjectInfo:  # fmt: skip
        """Every node class's definition; cached per server and `node_set` (object_info.py)."""

        async def fetch() -> ObjectInfo:
            info = await self._json("GET", "/object_info", time_limit=120.0)
            if not isinstance(info, dict):
                raise ComfyUIHTTPError("unexpected /object_info body", status=200)
            return info

        return await self._object_info.get((self.base_url, node_set), fetch, refresh=refresh)

    async def models(self, folder: str) -> list[str]:
        """The files of a model folder (`checkpoints`, `loras`, ...); [] for an unknown folder."""
        response = await self._send("GET", f"/models/{quote(folder, safe='')}", reads=True)
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            raise _unexpected("GET", "/models/...", response)
        return [str(name) for name in response.json()]

    # --- prompts -----------------------------------------------------------------------------

    async def submit(
        self,
        prompt: Mapping[str, Any],
        *,
        prompt_id: str,
        client_id: str | None = None,
        extra_data: Mapping[str, Any] | None = None,
        front: bool = False,
        strict: bool = True,
    ) -> Submission:
        """Queue `prompt` as `prompt_id`, unless the server already has that id.

        `client_id` names the socket that gets its progress (`events().client_id`). Raises
        `PromptRejected` with ComfyUI's errors on a 400, and also (after taking the partial job
        back) on a 200 whose `node_errors` is not empty, unless `strict` is False.
        After a failure with an unknown outcome the prompt is looked for (after `settle_s`)
        before any new post; `ComfyUIUnreachable` when the server stays out of reach.
        """
        location = await self.locate(prompt_id)
        if location.state != "unknown":
            return Submission(prompt_id, None, recovered=True)
        body: dict[str, Any] = {"prompt": dict(prompt), "prompt_id": prompt_id}
        if client_id is not None:
            body["client_id"] = client_id
        if extra_data:
            body["extra_data"] = dict(extra_data)
        if front:
            body["front"] = True
        failure: ComfyUIError | None = None
        for number in range(self.retry.attempts):
            if number:
                await self.retry.sleep(self.retry.delay(number - 1))
            try:
                response = await self._send("POST", "/prompt", reads=False, json=body, time_limit=self.submit_timeout)  # fmt: skip
            except ComfyUIUnreachable as error:
                if not error.outcome_unknown:
                    failure = error
                    continue  # never reached the server: safe to post again
                failure = error
            else:
                if response.status_code in (200, 400):
                    return await self._accepted(prompt_id, response, strict)
                failure = _unexpected("POST", "/prompt", response)
                if response.status_code < 500:
                    raise failure
            await self.retry.sleep(self.retry.settle_s)
            location = await self.locate(prompt_id)
            if location.state != "unknown":
                return Submission(prompt_id, None, recovered=True)
            if isinstance(failure, ComfyUIHTTPError) and _AIOHTTP_500 in failure.body:
                raise failure  # ComfyUI's handler raised on this body: it would again
        assert failure is not None  # noqa: S101 - the loop ran at least once
        raise failure

    async def _accepted(self, prompt_id: str, response: httpx.Response, strict: bool) -> Submission:
        try:
            body = response.json()
            node_errors = dict(body.get("node_errors") or {})
        except (ValueError, AttributeError, TypeError):
            raise _unexpected("POST", "/prompt", response) from None
        if response.status_code == 400:
            raise PromptRejected(body.get("error"), node_errors)
        if node_errors and strict:
            # Only the outputs that validated were queued: take the job back before it bills.
            await self.cancel(prompt_id)
            raise PromptRejected(
                {"type": "partial", "message": "Some outputs failed validation"},
                node_errors,
                partial=True,
                status=200,
            )
        number = body.get("number")
        return Submission(prompt_id, float(number) if isinstance(number, (int, float)) else None, node_errors)  # fmt: skip

    async def cancel(self, prompt_id: str) -> PromptLocation:
        """Stop `prompt_id` wherever it is, and only it: delete it if pending, interrupt it if
        running (by id, so another prompt is never hit). Where it is afterwards (an interrupt
        lands at the next node or sampler step: follow the prompt to see it end)."""
        await self._post_empty("/queue", {"delete": [prompt_id]})
        if (await self.queue()).find(prompt_id) == "running":
            await self._post_empty("/interrupt", {"prompt_id": prompt_id})
        return await self.locate(prompt_id)

    async def delete_history(self, prompt_ids: list[str]) -> None:
        """Forget finished prompts on the server (after their outputs were copied home)."""
        await self._post_empty("/history", {"delete": list(prompt_ids)})

    def events(self, **options: Any) -> EventStream:
        """This client's WebSocket (`async with client.events() as stream:`); options: see
        `EventStream`. Open it and subscribe before submitting; pass `stream.client_id`."""
        return EventStream(self, **options)

    async def run(
        self,
        prompt: Mapping[str, Any],
        *,
        prompt_id: str,
        extra_data: Mapping[str, Any] | None = None,
        on_event: Callable[[Event], Awaitable[None]] | None = None,
        stream: EventStream | None = None,
    ) -> PromptResult:
        """Queue `prompt` as `prompt_id` (idempotently) and follow it to its end.

        Returns the result of a success; raises `PromptRejected`, `PromptFailed`,
        `PromptInterrupted`, `PromptLost` or `ComfyUIUnreachable`. `on_event` sees every
        event; pass an open `stream` to share one socket between several prompts.
        """
        async with contextlib.AsyncExitStack() as stack:
            if stream is None:
                stream = await stack.enter_async_context(self.events())
            subscription = stream.subscribe(prompt_id)
            stack.callback(subscription.close)
            await self.submit(prompt, prompt_id=prompt_id, client_id=stream.client_id, extra_data=extra_data)  # fmt: skip
            async for item in subscription:
                if isinstance(item, PromptFinished):
                    return item.result.raise_for_outcome()
                if on_event is not None:
                    await on_event(item)
        raise ComfyUIError(f"following {prompt_id} ended without its result")  # not reached

    # --- files -------------------------------------------------------------------------------

    async def upload_image(
        self,
        source: bytes | Path,
        filename: str | None = None,
        *,
        subfolder: str = "",
        folder_type: str = "input",
        overwrite: bool = False,
    ) -> UploadedFile:
        """Upload an input file (`/upload/image`; any file type works). ComfyUI keeps the
        existing file when the bytes are the same and renames (`x (1).png`) when they differ."""
        name = filename or (source.name if isinstance(source, Path) else None)
        if not name:
            raise ValueError("a filename is needed for bytes")
        fields = {"type": folder_type, "subfolder": subfolder, "overwrite": "true" if overwrite else "false"}  # fmt: skip
        with contextlib.ExitStack() as stack:
            content = source if isinstance(source, bytes) else stack.enter_context(source.open("rb"))  # fmt: skip
            response = await self._send("POST", "/upload/image", reads=False, files={"image": (name, content)}, data=fields, time_limit=self.submit_timeout)  # fmt: skip
        if response.status_code != 200:
            raise _unexpected("POST", "/upload/image", response)
        body = response.json()
        return UploadedFile(str(body["name"]), str(body.get("subfolder", "")), str(body.get("type", folder_type)))  # fmt: skip

    @contextlib.asynccontextmanager
    async def open_output(self, file: OutputFile) -> AsyncIterator[httpx.Response]:
        """Stream a file from `/view` (`async for chunk in response.aiter_bytes()`), unbuffered."""
        request = self._http.build_request("GET", "api/view", params=file.view_params(), timeout=httpx.Timeout(60.0, read=300.0))  # fmt: skip
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TransportError as error:
            raise _unreachable("GET", "/view", error) from None
        try:
            if response.status_code != 200:
                await response.aread()
                if response.status_code in _GATEWAY:
                    raise ComfyUIUnreachable(f"GET /view: {response.status_code} from the proxy", status=response.status_code, outcome_unknown=False)  # fmt: skip
                raise _unexpected("GET", "/view", response)
            yield response
        finally:
            await response.aclose()

    async def download(self, file: OutputFile, destination: Path) -> DownloadedFile:
        """Copy an output to `destination` as it streams in; its size and sha256."""
        digest = hashlib.sha256()
        size = 0
        partial = destination.with_name(destination.name + ".part")
        try:
            async with self.open_output(file) as response:
                with partial.open("wb") as out:
                    async for chunk in response.aiter_bytes(1 << 20):
                        out.write(chunk)
                        digest.update(chunk)
                        size += len(chunk)
            partial.replace(destination)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return DownloadedFile(destination, size, digest.hexdigest())


def _shown(path: str) -> str:
    return path.split("?", 1)[0]


def _unreachable(method: str, path: str, error: httpx.TransportError) -> ComfyUIUnreachable:
    sent = not isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    kind = type(error).__name__
    return ComfyUIUnreachable(f"{method} {_shown(path)}: no answer ({kind})", outcome_unknown=sent)


def _unexpected(method: str, path: str, response: httpx.Response) -> ComfyUIHTTPError:
    text = response.text if response.headers.get("content-type", "").startswith(("text/", "application/json")) else ""  # fmt: skip
    return ComfyUIHTTPError(
        f"{method} {_shown(path)}: unexpected {response.status_code}",
        status=response.status_code,
        body=text,
    )
