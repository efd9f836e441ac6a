"""`deploy` of a gated model in the embedded default, whose preflight asks the built-in Hugging
Face and Civitai stand-ins: a refusal names the missing or refused token and how to give it, and
no token is ever printed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from comfyhangar.emulators.hub import DEMO_HF_TOKEN, NO_ACCESS_HF_TOKEN
from tests.cli.conftest import Cli
from tests.server.conftest import Hangar, fast_settings, running_hangar
from tests.server.test_preflight import GATED

pytestmark = pytest.mark.asyncio(loop_scope="module")

GOOD, WRONG = DEMO_HF_TOKEN, NO_ACCESS_HF_TOKEN


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def gated_hangar(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Hangar]:
    settings = fast_settings(tmp_path_factory.mktemp("gated"), preflight=True)
    async with running_hangar(settings, timeout=20) as hangar:
        yield hangar


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"version": 1, "models": [GATED]}))
    return path


async def names(hangar: Hangar) -> set[str]:
    listed = (await hangar.http.get("/api/v1/deployments")).json()["deployments"]
    return {d["name"] for d in listed}


async def test_without_a_token_the_refusal_says_which_token_and_how_to_give_it(
    gated_hangar: Hangar, manifest: Path
) -> None:
    args = ("deploy", "gated", "--gpu", "RTX 4090", "--manifest", str(manifest))
    result = await Cli(gated_hangar.base_url)(*args)
    assert result.exit_code == 1
    assert "preflight refused it, nothing was created:" in result.stderr
    assert "flux1-dev.safetensors: Hugging Face repo black-forest-labs/FLUX.1-dev is gated" in (
        result.stderr
    )
    assert (
        "A Hugging Face token is missing: set HF_TOKEN in the environment, or pass "
        "--hf-token-file FILE." in result.stderr
    )
    assert "gated" not in await names(gated_hangar)

    problem = (
        await gated_hangar.http.post(
            "/api/v1/deployments",
            json={
                "name": "gated",
                "gpu": {"id": "NVIDIA GeForce RTX 4090"},
                "manifest": json.loads(manifest.read_text()),
            },
        )
    ).json()
    (error,) = problem["errors"]
    assert (error["code"], error["token"]) == ("token_required", "hf_token")


async def test_a_token_without_access_is_named_by_where_it_came_from(
    gated_hangar: Hangar, manifest: Path, tmp_path: Path
) -> None:
    token_file = tmp_path / "wrong.txt"
    token_file.write_text(WRONG)
    result = await Cli(gated_hangar.base_url)(
        "deploy", "gated", "--gpu", "RTX 4090", "--manifest", str(manifest),
        "--hf-token-file", str(token_file),
    )  # fmt: skip
    assert result.exit_code == 1
    assert f"The Hugging Face token from --hf-token-file {token_file} has no access" in (
        result.stderr
    )
    assert WRONG not in result.both
    assert "gated" not in await names(gated_hangar)


async def test_with_a_good_token_from_the_environment_the_deploy_goes_ahead(
    gated_hangar: Hangar, manifest: Path
) -> None:
    result = await Cli(gated_hangar.base_url)(
        "deploy", "gated", "--gpu", "RTX 4090", "--manifest", str(manifest), "-d", "--json",
        env={"HF_TOKEN": GOOD},
    )  # fmt: skip
    assert result.exit_code == 0, result.both
    assert json.loads(result.stdout)["name"] == "gated"
    assert GOOD not in result.both
