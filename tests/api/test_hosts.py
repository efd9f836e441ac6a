"""The Host header check (DNS rebinding): a request that names another host is refused with
a 421 problem+json before any route runs, the API, the event stream and the dashboard alike;
the server's loopback names (at any port: tunnels and local proxies), its bound address and
`HANGAR_ALLOWED_HOSTS` are served."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from comfyhangar.server.app import create_app
from comfyhangar.server.hosts import AllowedHosts, host_rules
from comfyhangar.server.settings import SettingsError, load_settings
from tests.server.conftest import FLUX_DEPLOY, fast_settings, running_hangar

REBOUND = ("evil.example", "evil.example:8000", "localhost.evil.example", "127.0.0.1.nip.io")


def _assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 421, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "host_not_allowed"
    assert "HANGAR_ALLOWED_HOSTS" in response.json()["detail"]


@pytest.mark.parametrize("host", REBOUND)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/health"),
        ("GET", "/api/v1/events"),
        ("POST", "/api/v1/deployments"),
        ("GET", "/"),
        ("GET", "/deploy"),
        ("GET", "/api/v1/docs"),
    ],
)
async def test_another_host_is_refused_before_any_route(
    tmp_path: Path, host: str, method: str, path: str
) -> None:
    # No lifespan runs: a route that were reached would fail for want of the runtime.
    app = create_app(fast_settings(tmp_path))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        response = await http.request(method, path, headers={"Host": host}, json=FLUX_DEPLOY)
    _assert_refused(response)


async def test_a_served_server_answers_its_own_names_only(tmp_path: Path) -> None:
    async with running_hangar(fast_settings(tmp_path)) as hangar:
        port = int(hangar.base_url.rsplit(":", 1)[1])
        own = (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", "localhost:9000")
        for host in (*own, "127.0.0.1", f"[::1]:{port}"):
            response = await hangar.http.get("/api/v1/health", headers={"Host": host})
            assert response.status_code == 200, (host, response.text)
        for host in (*REBOUND, f"[::2]:{port}", f"127.0.0.1:{port}:1", f"127.0.0.1:{port}/x"):
            _assert_refused(await hangar.http.get("/api/v1/health", headers={"Host": host}))
            refused = await hangar.http.post(
                "/api/v1/deployments", json=FLUX_DEPLOY, headers={"Host": host}
            )
            _assert_refused(refused)
        async with hangar.http.stream(
            "GET", "/api/v1/events", headers={"Host": "evil.example"}
        ) as stream:
            assert stream.status_code == 421
        assert (await hangar.http.get("/api/v1/deployments")).json()["deployments"] == []


async def test_allowed_hosts_extend_the_loopback_names(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path, allowed_hosts="hangar.example.com, *.lan.example:8443")
    async with running_hangar(settings) as hangar:
        for host in ("hangar.example.com", "hangar.example.com:9999", "pc.lan.example:8443"):
            response = await hangar.http.get("/api/v1/health", headers={"Host": host})
            assert response.status_code == 200, (host, response.text)
        for host in ("lan.example:8443", "pc.lan.example:8444", "hangar.example.com.evil"):
            _assert_refused(await hangar.http.get("/api/v1/health", headers={"Host": host}))


def test_the_bound_address_is_one_of_the_names() -> None:
    scope = {"type": "http", "scheme": "http", "server": ("192.168.1.5", 8000)}
    guard = AllowedHosts(app=None, rules=host_rules("192.168.1.5", []))  # type: ignore[arg-type]

    def allows(host: str) -> bool:
        return guard.allows({**scope, "headers": [(b"host", host.encode())]})

    assert allows("192.168.1.5:8000")
    assert allows("192.168.1.5:9000")  # through a proxy or a tunnel
    assert allows("localhost:8000")
    assert not allows("192.168.1.6:8000")
    wildcard = AllowedHosts(app=None, rules=host_rules("0.0.0.0", []))  # type: ignore[arg-type]  # noqa: S104
    assert not wildcard.allows({**scope, "headers": [(b"host", b"0.0.0.0:8000")]})
    v6 = AllowedHosts(app=None, rules=host_rules("::1", []))  # type: ignore[arg-type]
    assert v6.allows({**scope, "headers": [(b"host", b"[::1]:8000")]})
    assert not guard.allows({**scope, "headers": []}), "no Host header at all"


def test_a_bad_allowed_host_stops_start_up_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"HANGAR_ALLOWED_HOSTS: .*'evil\.example/x'"):
        load_settings(allowed_hosts="ok.example, evil.example/x")
