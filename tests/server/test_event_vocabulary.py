"""One event vocabulary: every type the server emits is an `EventType` with a typed payload,
documented in OpenAPI (which the dashboard's client is generated from), and nothing else can be
appended to the event log."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import get_args

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from comfyhangar.agent.protocol import STATUSES, STEPS
from comfyhangar.core.setup_progress import SETUP_ORDER, SetupStepName
from comfyhangar.server.app import create_app
from comfyhangar.server.db.events import append_event
from comfyhangar.server.db.models import Event
from comfyhangar.server.schemas.events import (
    EVENT_DATA,
    EventType,
    SetupProgressData,
    UnknownEventTypeError,
    event_data,
)
from comfyhangar.server.services.event_hub import LiveEvent
from tests.server.conftest import FLUX_DEPLOY, frozen_runtime, settle
from tests.server.test_reconciler import tagged_create_body


def test_every_event_type_has_a_payload_and_an_openapi_variant() -> None:
    assert set(EVENT_DATA) == set(EventType)
    schemas = create_app().openapi()["components"]["schemas"]
    assert schemas["EventType"]["enum"] == [t.value for t in EventType]
    variants = {v["properties"]["type"]["const"]: v for v in schemas["HangarEvent"]["oneOf"]}
    assert list(variants) == [t.value for t in EventType]
    for type_, model in EVENT_DATA.items():
        assert variants[type_.value]["properties"]["data"]["$ref"].endswith(f"/{model.__name__}")
        assert model.__name__ in schemas


def test_the_event_stream_documents_its_messages() -> None:
    operation = create_app().openapi()["paths"]["/api/v1/events"]["get"]
    stream = operation["responses"]["200"]["content"]["text/event-stream"]
    assert stream["schema"]["$ref"] == "#/components/schemas/HangarEvent"


def test_the_api_doc_lists_every_type() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    listed = re.search(r"The types are (.*?)\. The OpenAPI", doc, re.S)
    assert listed is not None
    assert re.findall(r"`(\w+)`", listed[1]) == [t.value for t in EventType]


def test_setup_steps_are_one_list() -> None:
    """The agent imports nothing of the package, so it keeps its own copy: the same one."""
    assert tuple(STEPS) == SETUP_ORDER == tuple(s.value for s in SetupStepName)
    status = SetupProgressData.model_fields["status"].annotation
    assert get_args(status) == tuple(STATUSES)
    schemas = create_app().openapi()["components"]["schemas"]
    assert schemas["SetupStepName"]["enum"] == list(SETUP_ORDER)


def test_event_data_keeps_the_callers_fields_only() -> None:
    asked = {"action": "stop", "source": "user", "reason": None}
    assert event_data(EventType.DEPLOYMENT_REQUESTED, asked) == asked
    progress = {"step": "models", "status": "running", "bytes_done": 5, "future_field": 1}
    assert event_data(EventType.SETUP_PROGRESS, progress) == progress


async def test_the_log_refuses_unknown_types_and_wrong_shapes(tmp_path: Path) -> None:
    async with frozen_runtime(tmp_path) as runtime:
        async with runtime.sessions() as session:
            before = await session.scalar(select(func.count()).select_from(Event))
        with pytest.raises(UnknownEventTypeError):
            async with runtime.sessions() as session, session.begin():
                await append_event(session, "pod_exploded", data={})  # type: ignore[arg-type]
        with pytest.raises(ValidationError):
            async with runtime.sessions() as session, session.begin():
                await append_event(session, EventType.POD_ADOPTED, data={"status": "RUNNING"})
        with pytest.raises(ValidationError):
            async with runtime.sessions() as session, session.begin():
                await append_event(session, EventType.ERROR, data={"message": "x", "token": "t"})
        async with runtime.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Event)) == before


async def test_what_a_deploy_and_an_adoption_emit_is_in_the_vocabulary(tmp_path: Path) -> None:
    from comfyhangar.server.schemas.deployments import DeploymentCreate

    async with frozen_runtime(tmp_path) as runtime:
        emu = runtime.cloud.emulator
        await runtime.deployments.create(DeploymentCreate(**FLUX_DEPLOY))
        tag = uuid.uuid4().hex
        emu.create_pod(tagged_create_body(tag))
        await settle(runtime)
        emu.clock.advance(10)
        await settle(runtime)
        async with runtime.sessions() as session:
            rows = list(await session.scalars(select(Event).order_by(Event.id)))
    seen = {row.type for row in rows}
    assert {"deployment_created", "pod_created", "pod_adopted", "deployment_state"} <= seen
    for row in rows:
        body = LiveEvent.from_row(row).payload()
        assert event_data(body["type"], body["data"]) == body["data"]
    adopted = next(r for r in rows if r.type == "pod_adopted")
    assert adopted.deployment_id == tag
    assert set(adopted.data) == {"status", "name"}
