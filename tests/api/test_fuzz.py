"""Property-based fuzzing of the API from its own OpenAPI document (schemathesis).

Every operation except the SSE streams (`/events`, `logs?follow=1`) gets generated requests,
valid and invalid, against the real app with its lifespan running (migrated SQLite database,
embedded RunPod emulator, reconciler). What must hold for each response:
- never a 500: bad input is a 4xx that says what is wrong; the only 5xx is a 503 that says
  when to try again (here: preflight cannot reach Hugging Face without internet);
- the response matches the documented status, content type and schema
  (`call_and_validate`), and every error is problem+json with a `code`.

Path parameters are generated strings, which hardly ever name a real deployment; so for about
half the cases the `deployment_id` is swapped for one of a few real deployments (which the
fuzzing then stops, starts, restarts and terminates in every order).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from comfyhangar.server.app import create_app
from tests.api.conftest import FLUX_DEPLOY, fast_settings

MAX_EXAMPLES = 20
LIVE_DEPLOYMENTS = 3
DOOMED_DEPLOYMENTS = 2
REAL_GPU = "NVIDIA GeForce RTX 4090"
TRUTHY = {"1", "true", "yes", "on", "t", "y"}
# The loopback address, which the server's Host check allows (schemathesis' own default host,
# "testserver", it refuses: see test_hosts.py).
BASE_URL = "http://127.0.0.1"
# The 503s a request can get for reasons outside it: preflight's model hosts are unreachable
# here (no internet), RunPod (the emulator) failing, the database busy.
RETRY_LATER = {"preflight_unavailable", "upstream_unavailable", "database_busy"}

CONFIG = SchemathesisConfig.from_str(
    f"""
[generation]
max-examples = {MAX_EXAMPLES}

[checks.positive_data_acceptance]
# The schema cannot say which GPU types, data centres or volumes exist, nor which deployments:
# valid-looking input may still be a 422 (checked against the live catalog), 404 or 409; and a
# preset's models cannot be checked here (no internet): preflight answers 503, try again later.
expected-statuses = ["2xx", "404", "409", "422", "503"]

[checks.not_a_server_error]
# A 503 says "try again later" (checked below: a known code and Retry-After); a 500 is a bug.
expected-statuses = ["2xx", "3xx", "4xx", "503"]
"""
)


# The schema is built at import (schemathesis' lazy `from_fixture` does not work with pytest 9)
# from an app's OpenAPI document, which needs no lifespan. Each test then calls its own app on
# its own data directory (`fuzz_app`): its lifespan starts with the test's first request and
# schemathesis ends it at teardown, so no test's background work can reach into the next one's
# database (a server process never restarts its lifespan in place; these tests would).
SCHEMA_DIR = Path(tempfile.mkdtemp(prefix="hangar-fuzz-"))
atexit.register(shutil.rmtree, SCHEMA_DIR, ignore_errors=True)
schema = schemathesis.openapi.from_dict(
    create_app(fast_settings(SCHEMA_DIR)).openapi(), config=CONFIG
)
schema.location = "/api/v1/openapi.json"


@pytest.fixture
def fuzz_app(tmp_path: Path) -> Any:
    """This test's app, on its own data directory."""
    return create_app(fast_settings(tmp_path))


@pytest.fixture
def real_ids() -> dict[str, list[str]]:
    """Real deployments, made by the first case that needs them: `live` ones for every action,
    `doomed` ones for terminate (so that terminating does not end the others' lifecycle)."""
    return {}


def _ensure_real_deployments(case: Any, ids: dict[str, list[str]], app: Any) -> None:
    if ids:
        return
    create = case.operation.schema["/api/v1/deployments"]["POST"]
    for group, count in (("live", LIVE_DEPLOYMENTS), ("doomed", DOOMED_DEPLOYMENTS)):
        ids[group] = []
        for n in range(count):
            body = {**FLUX_DEPLOY, "name": f"{group}-{n}"}
            response = create.Case(body=body).call(app=app, base_url=BASE_URL)
            assert response.status_code == 201, response.text
            ids[group].append(response.json()["id"])


def _steer(case: Any, ids: dict[str, list[str]], app: Any) -> None:
    """Point half the cases with a `deployment_id` at a real one; make a quarter of the valid deploy
    bodies use a real GPU (so that some deploys succeed); never ask the logs for a stream."""
    generated = (case.path_parameters or {}).get("deployment_id")
    if isinstance(generated, str):
        _ensure_real_deployments(case, ids, app)
        pool = ids["doomed" if case.method.upper() == "DELETE" else "live"]
        pick = _digest(generated) % (2 * len(pool))
        if pick < len(pool):
            case.path_parameters["deployment_id"] = pool[pick]
    body = case.body
    if (
        case.operation.label == "POST /api/v1/deployments"
        and case.meta is not None
        and case.meta.generation.mode.is_positive
        and isinstance(body, dict)
        and isinstance(body.get("gpu"), dict)
        and _digest(str(body.get("name"))) % 4 == 0
    ):
        body["gpu"] = {"id": REAL_GPU, "count": 1}
        body["cloud"] = "SECURE"
        for field in ("fallback_gpu_ids", "data_center_ids"):
            body.pop(field, None)
        if body.pop("network_volume_id", None) is not None:
            body["volume_gb"] = 20
    follow = (case.query or {}).get("follow")
    if follow is not None and str(follow).lower() in TRUTHY:
        case.query["follow"] = "false"


def _digest(text: str) -> int:
    return sum(map(ord, text))


@pytest.mark.slow
@schema.exclude(path="/api/v1/events").parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_never_fails_and_matches_its_schema(
    case: Any, real_ids: dict[str, list[str]], fuzz_app: Any
) -> None:
    _steer(case, real_ids, fuzz_app)
    response = case.call_and_validate(app=fuzz_app, base_url=BASE_URL)
    if response.status_code == 503:  # only "try again later", and it says when
        assert response.json()["code"] in RETRY_LATER, response.text
        assert response.headers["retry-after"][0].isdigit(), response.headers
    else:
        assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"][0].startswith("application/problem+json")
        problem = response.json()
        assert problem["code"], problem
        assert problem["status"] == response.status_code, problem
    if response.status_code == 405:
        assert response.headers.get("allow", [""])[0], "a 405 names the allowed methods"
