"""The RunPod account balance, read from the (deprecated) GraphQL API.

REST v2 has no balance endpoint; GraphQL `myself { clientBalance }` still answers until the
GraphQL API is retired (announced for early 2027). Reading it is optional by nature: every way it
can fail ends in `BalanceUnavailable` with a one-line reason, never the API key.

GraphQL quirks handled here (shared/reference/runpod-graphql-notes.md §1): business errors come
with HTTP 200 and an `errors` list; a rejected key may answer 401, or 200 with
`{"data": {"myself": null}}` and no errors; validation failures are 400; retirement is 410.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

import httpx

BALANCE_QUERY = "query { myself { clientBalance } }"
DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=3.0)  # the summary waits on it, at most once a minute


class BalanceUnavailable(Exception):
    """The balance could not be read; `str()` says why (safe to show to users)."""


def graphql_url_for(rest_url: str) -> str:
    """The GraphQL endpoint next to a RunPod REST base URL.

    `https://api.runpod.io/v2` → `https://api.runpod.io/graphql`; the legacy REST host
    `https://rest.runpod.io/v1` → `https://api.runpod.io/graphql`; an emulator's
    `http://127.0.0.1:PORT/v2` → `http://127.0.0.1:PORT/graphql`.
    """
    parts = urlsplit(rest_url.rstrip("/"))
    path = parts.path
    for suffix in ("/v2", "/v1"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    host = "api.runpod.io" if parts.netloc == "rest.runpod.io" else parts.netloc
    return urlunsplit((parts.scheme, host, f"{path}/graphql", "", ""))


class BalanceClient:
    """`await BalanceClient(key, url).balance()` → the account's credit in USD."""

    def __init__(
        self,
        api_key: str,
        graphql_url: str,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = graphql_url
        self._secret = api_key
        self._http = httpx.AsyncClient(
            timeout=timeout,
            transport=transport,
            headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"BalanceClient(url={self.url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def balance(self) -> Decimal:
        """The account balance (`myself.clientBalance`), or `BalanceUnavailable`."""
        try:
            response = await self._http.post(self.url, json={"query": BALANCE_QUERY})
        except httpx.HTTPError as exc:
            raise BalanceUnavailable(
                f"RunPod GraphQL did not answer: {type(exc).__name__}"
            ) from None
        if response.status_code != 200:
            raise BalanceUnavailable(self._status_reason(response.status_code))
        try:
            body: Any = response.json()
        except ValueError:
            raise BalanceUnavailable(
                "RunPod GraphQL answered with a body that is not JSON"
            ) from None
        if not isinstance(body, dict):
            raise BalanceUnavailable("RunPod GraphQL answered with an unexpected body")
        errors = body.get("errors")
        if errors:
            raise BalanceUnavailable(f"RunPod GraphQL error: {self._first_message(errors)}")
        data = body.get("data")
        myself = data.get("myself") if isinstance(data, dict) else None
        if not isinstance(myself, dict):
            raise BalanceUnavailable("RunPod GraphQL returned no account (is the API key valid?)")
        raw = myself.get("clientBalance")
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
            raise BalanceUnavailable("RunPod GraphQL returned no clientBalance")
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            raise BalanceUnavailable(
                "RunPod GraphQL returned a clientBalance that is not a number"
            ) from None
        if not value.is_finite():
            raise BalanceUnavailable("RunPod GraphQL returned a clientBalance that is not a number")
        return value

    @staticmethod
    def _status_reason(status: int) -> str:
        reasons = {
            401: "RunPod GraphQL rejected the API key (401)",
            403: "the API key may not read the account (403)",
            404: "RunPod GraphQL endpoint not found (404)",
            410: "RunPod GraphQL API is retired (410)",
            429: "RunPod GraphQL rate limit reached (429)",
        }
        return reasons.get(status, f"RunPod GraphQL answered HTTP {status}")

    def _first_message(self, errors: Any) -> str:
        first = errors[0] if isinstance(errors, list) and errors else errors
        message = first.get("message") if isinstance(first, dict) else None
        text = str(message) if message else "unspecified error"
        if self._secret:
            text = text.replace(self._secret, "***")
        return text[:200]
