"""The Host header check that stops DNS rebinding.

A web page on any site the owner visits can make its own name resolve to 127.0.0.1 and then
send requests, with its own name in `Host`, to the server on this machine: the browser thinks
it talks to the page's site, so no same-origin rule stops it. The server refuses every request
whose Host header is not one of its own names, before any route runs (the API, the event
stream and the dashboard alike), with a 421 problem+json `host_not_allowed`.

Its own names are, by default, the loopback names `localhost`, `127.0.0.1` and `[::1]` and
the address it is bound to (`HANGAR_HOST`, unless that is a wildcard such as `0.0.0.0`), at any
port; plus the entries of `HANGAR_ALLOWED_HOSTS`: `name` (any port), `name:port`, `*.domain`
(its subdomains) or `*` (anything: the check is off).

Any port, for the default names: a rebinding page can only send its own name, never
`localhost`, so a port check would stop no attack, and it would refuse what is common and
safe: an SSH tunnel (`ssh -L 9000:127.0.0.1:8000`, then http://localhost:9000) or a local
proxy in front of the server.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from comfyhangar.server.errors import problem

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
WILDCARD_ADDRESSES = ("", "0.0.0.0", "::", "[::]")  # noqa: S104 - names to leave out
DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}
# A rejected Host is echoed in the refusal (to say what was refused), this long at most.
ECHO_CHARS = 100


@dataclass(frozen=True)
class HostRule:
    """One allowed host: a name (`*.domain` for subdomains, `*` for any) and, optionally, a port
    (`None`: any)."""

    name: str
    port: int | None = None

    @classmethod
    def parse(cls, entry: str) -> HostRule:
        """`name`, `name:port`, `[v6]` or `[v6]:port` (validated by the settings)."""
        name, port = split_host(entry)
        return cls(name, port)

    def allows(self, name: str, port: int) -> bool:
        if self.name == "*":
            return True
        # `*.domain` allows the subdomains (a name ending in ".domain"), not the domain itself.
        wildcard = self.name.startswith("*.")
        if not (name.endswith(self.name[1:]) if wildcard else name == self.name):
            return False
        return self.port is None or port == self.port


def split_host(value: str) -> tuple[str, int | None]:
    """A Host header (or allowed-host entry) as (lower-case name, port or None).

    Anything that is not `name`, `name:port`, `[v6]` or `[v6]:port` comes back whole as the
    name, so that it matches no rule but `*`.
    """
    value = value.strip().lower()
    if value.startswith("[") and "]" in value:
        end = value.index("]") + 1
        name, rest = value[:end], value[end:]
    else:
        name, sep, port = value.partition(":")
        rest = sep + port
    if not rest:
        return name, None
    port = rest[1:]
    if rest.startswith(":") and port.isascii() and port.isdigit() and len(port) <= 5:
        return name, int(port)
    return value, None


def host_rules(bind_host: str, allowed: Iterable[str]) -> list[HostRule]:
    """The rules for a server bound at `bind_host` with `HANGAR_ALLOWED_HOSTS` entries."""
    names = list(LOOPBACK_NAMES)
    bound = bind_host.strip().lower()
    if ":" in bound and not bound.startswith("["):
        bound = f"[{bound}]"  # an IPv6 address appears bracketed in Host
    if bound not in WILDCARD_ADDRESSES and bound not in names:
        names.append(bound)
    return [HostRule(n) for n in names] + [HostRule.parse(e) for e in allowed]


class AllowedHosts:
    """ASGI middleware: requests whose Host header no rule allows get 421 `host_not_allowed`."""

    def __init__(self, app: ASGIApp, rules: Sequence[HostRule]) -> None:
        self.app = app
        self.rules = tuple(rules)

    def allows(self, scope: Scope) -> bool:
        host = Headers(scope=scope).get("host")
        if not host:
            return False
        name, port = split_host(host)
        if port is None:
            port = DEFAULT_PORTS.get(scope.get("scheme", "http"), 80)
        return any(rule.allows(name, port) for rule in self.rules)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.allows(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        host = Headers(scope=scope).get("host", "")
        shown = host[:ECHO_CHARS].encode("ascii", "replace").decode()
        response = problem(
            421,
            "host_not_allowed",
            f"this server does not answer to the host {shown!r} (a page on another site may be "
            "trying to reach it through DNS rebinding); to serve this name, add it to "
            "HANGAR_ALLOWED_HOSTS",
        )
        await response(scope, receive, send)
