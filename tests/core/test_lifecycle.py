"""Lifecycle rules: the state users see and the one RunPod action to take."""

from __future__ import annotations

import dataclasses

import pytest

from comfyhangar.core.lifecycle import (
    DeploymentState as S,
)
from comfyhangar.core.lifecycle import (
    Desired,
    Observation,
    PodAction,
    decide,
)


def obs(
    desired: Desired = Desired.RUNNING,
    status: str | None = None,
    *,
    had_pod: bool = True,
    ready: bool = False,
    restart: bool = False,
    failed: str | None = None,
) -> Observation:
    return Observation(desired, status, had_pod, ready, restart, failed)


@pytest.mark.parametrize(
    ("observation", "state", "action"),
    [
        # a new deployment asks for a pod, once
        (obs(status=None, had_pod=False), S.CREATING, PodAction.CREATE),
        (obs(status="PROVISIONING"), S.PROVISIONING, None),
        (obs(status="STARTING"), S.STARTING, None),
        (obs(status="RUNNING"), S.INSTALLING, None),
        (obs(status="RUNNING", ready=True), S.READY, None),
        # stop: from any live status, and nothing more once EXITED
        (obs(Desired.STOPPED, "RUNNING", ready=True), S.STOPPING, PodAction.STOP),
        (obs(Desired.STOPPED, "PROVISIONING"), S.STOPPING, PodAction.STOP),
        (obs(Desired.STOPPED, "EXITED"), S.STOPPED, None),
        # start again
        (obs(Desired.RUNNING, "EXITED"), S.STARTING, PodAction.START),
        # restart only a running pod; during it the state says restarting
        (obs(status="RUNNING", ready=True, restart=True), S.RESTARTING, PodAction.RESTART),
        (obs(status="STARTING", restart=True), S.RESTARTING, None),
        # terminate from anything that exists; done when the pod is gone
        (obs(Desired.TERMINATED, "RUNNING"), S.TERMINATING, PodAction.TERMINATE),
        (obs(Desired.TERMINATED, "EXITED"), S.TERMINATING, PodAction.TERMINATE),
        (obs(Desired.TERMINATED, "ERROR"), S.TERMINATING, PodAction.TERMINATE),
        (obs(Desired.TERMINATED, None), S.TERMINATED, None),
        (obs(Desired.TERMINATED, None, had_pod=False), S.TERMINATED, None),
        # failures
        (obs(status="ERROR"), S.FAILED, None),
        (obs(status=None, had_pod=True), S.FAILED, None),
        (obs(status=None, had_pod=False, failed="no GPU available"), S.FAILED, None),
    ],
)
def test_decide(observation: Observation, state: S, action: PodAction | None) -> None:
    verdict = decide(observation)
    assert (verdict.state, verdict.action) == (state, action)


def test_vanished_pod_is_a_failure_with_a_reason_not_a_second_create() -> None:
    """A pod that disappears while wanted must never silently trigger another create."""
    verdict = decide(obs(status=None, had_pod=True))
    assert verdict.action is None
    assert verdict.reason is not None
    assert "disappeared" in verdict.reason


def test_create_refused_is_not_retried_until_the_user_acts() -> None:
    verdict = decide(obs(status=None, had_pod=False, failed="insufficient balance"))
    assert verdict.action is None
    assert verdict.reason == "insufficient balance"


def test_a_deployment_stopped_before_its_pod_existed_creates_nothing() -> None:
    verdict = decide(obs(Desired.STOPPED, None, had_pod=False))
    assert (verdict.state, verdict.action) == (S.STOPPED, None)


@pytest.mark.parametrize(
    ("desired", "status", "state"),
    [
        (Desired.STOPPED, "RUNNING", S.STOPPING),
        (Desired.STOPPED, "EXITED", S.STOPPED),
        (Desired.TERMINATED, "EXITED", S.TERMINATING),
        (Desired.TERMINATED, None, S.TERMINATED),
    ],
)
def test_why_a_stop_was_asked_stays_the_reason_on_the_way(
    desired: Desired, status: str | None, state: S
) -> None:
    """A budget's stop says why in every state it leads through, not only in the first."""
    why = "stopped by budget 'team': $5.01 spent of its $5.00 daily limit (2026-11-26)"
    verdict = decide(
        Observation(desired, status, True, False, False, request_reason=why),
    )
    assert (verdict.state, verdict.reason) == (state, why)
    assert decide(Observation(desired, status, True, False, False)).reason is None


def test_a_failure_keeps_its_own_reason_over_a_stop_reason() -> None:
    verdict = decide(Observation(Desired.STOPPED, "ERROR", True, False, False, request_reason="x"))
    assert (verdict.state, verdict.reason) == (S.FAILED, "RunPod reports the pod in ERROR")


def test_a_setup_that_stopped_fails_the_deployment_until_a_restart() -> None:
    running = Observation(
        desired=Desired.RUNNING, pod_status="RUNNING", ever_had_pod=True, setup_ready=False,
        restart_requested=False, setup_failed="models: failed: flux1-dev.safetensors",
    )  # fmt: skip
    verdict = decide(running)
    assert verdict.state is S.FAILED
    assert verdict.action is None, "the pod is left for the user to inspect, restart or stop"
    assert verdict.reason is not None
    assert verdict.reason.startswith("setup failed: models: failed: flux1-dev.safetensors")
    restart = decide(dataclasses.replace(running, restart_requested=True))
    assert (restart.state, restart.action) == (S.RESTARTING, PodAction.RESTART)
    stop = decide(dataclasses.replace(running, desired=Desired.STOPPED))
    assert (stop.state, stop.action) == (S.STOPPING, PodAction.STOP)
