"""Deployment lifecycle rules: what a deployment's state is, given what was asked and what is seen.

Pure functions, no I/O. The reconciler feeds them the deployment's intent and RunPod's view of
its pod, and gets back the state to record and the one RunPod action (if any) to take.

States (shown to users):

| state | meaning |
| --- | --- |
| pending | accepted; no pod asked for yet |
| creating | asking RunPod for a pod |
| provisioning | RunPod is finding a machine (`PROVISIONING`) |
| starting | the container is starting (`STARTING`) |
| installing | the container runs; the agent is installing ComfyUI, nodes and models |
| ready | ComfyUI answers through the token proxy |
| stopping | a stop was asked; the pod still runs |
| stopped | the pod is `EXITED`: no GPU billed, volume kept |
| restarting | a restart was asked and is under way |
| terminating | a terminate was asked; the pod still exists |
| terminated | the pod is gone (final) |
| failed | something went wrong (a refused create, a vanished pod, a setup that stopped); `reason` says what (final unless the user acts) |
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DeploymentState(StrEnum):
    PENDING = "pending"
    CREATING = "creating"
    PROVISIONING = "provisioning"
    STARTING = "starting"
    INSTALLING = "installing"
    READY = "ready"
    STOPPING = "stopping"
    STOPPED = "stopped"
    RESTARTING = "restarting"
    TERMINATING = "terminating"
    TERMINATED = "terminated"
    FAILED = "failed"


class Desired(StrEnum):
    """What the user wants the pod to be."""

    RUNNING = "running"
    STOPPED = "stopped"
    TERMINATED = "terminated"


class PodAction(StrEnum):
    """A call the reconciler makes to RunPod on a deployment's behalf."""

    CREATE = "create"
    START = "start"
    STOP = "stop"
    RESTART = "restart"
    TERMINATE = "terminate"


FINAL_STATES = frozenset({DeploymentState.TERMINATED})
# The pod is up and the agent runs: the log follower watches these.
SETUP_STATES = frozenset({DeploymentState.INSTALLING, DeploymentState.READY})


@dataclass(frozen=True)
class Observation:
    """What the reconciler knows about a deployment at one moment."""

    desired: Desired
    pod_status: str | None  # RunPod v2 PodStatus, or None when no pod carries our tag
    ever_had_pod: bool  # a pod was created (or adopted) for this deployment at some point
    setup_ready: bool  # the agent reported `ready` since the pod last started
    restart_requested: bool  # the user asked for a restart not yet carried out
    failed_reason: str | None = None  # a failure already recorded (for example create refused)
    # Why the stop or terminate was asked, when the system asked it (a budget): it stays the
    # reason of every state on the way (stopping, stopped; terminating, terminated).
    request_reason: str | None = None
    # The agent's current run stopped: what failed (`core.setup_progress.setup_failure`).
    setup_failed: str | None = None


@dataclass(frozen=True)
class Verdict:
    """The state to record, why (a failure, or a stop the system asked), and the action to
    take now, if any."""

    state: DeploymentState
    action: PodAction | None = None
    reason: str | None = None


def decide(obs: Observation) -> Verdict:
    """The state of a deployment and the next RunPod action, from what is asked and seen."""
    status = obs.pod_status
    asked = obs.request_reason
    if obs.desired is Desired.TERMINATED:
        if status is None or status == "TERMINATED":
            return Verdict(DeploymentState.TERMINATED, reason=asked)
        return Verdict(DeploymentState.TERMINATING, PodAction.TERMINATE, reason=asked)

    if status is None or status == "TERMINATED":
        if obs.failed_reason is not None:
            return Verdict(DeploymentState.FAILED, reason=obs.failed_reason)
        if obs.ever_had_pod:
            return Verdict(DeploymentState.FAILED, reason="the pod disappeared from RunPod")
        if obs.desired is Desired.STOPPED:
            return Verdict(DeploymentState.STOPPED, reason=asked)
        return Verdict(DeploymentState.CREATING, PodAction.CREATE)

    if status == "ERROR":
        if obs.desired is Desired.RUNNING and obs.restart_requested:
            return Verdict(DeploymentState.RESTARTING, PodAction.START)
        return Verdict(DeploymentState.FAILED, reason="RunPod reports the pod in ERROR")

    if obs.desired is Desired.STOPPED:
        if status == "EXITED":
            return Verdict(DeploymentState.STOPPED, reason=asked)
        return Verdict(DeploymentState.STOPPING, PodAction.STOP, reason=asked)

    # desired RUNNING
    if status == "EXITED":
        return Verdict(DeploymentState.STARTING, PodAction.START)
    if status == "PROVISIONING":
        return Verdict(DeploymentState.PROVISIONING)
    if status == "STARTING":
        return Verdict(
            DeploymentState.RESTARTING if obs.restart_requested else DeploymentState.STARTING
        )
    if status == "RUNNING":
        if obs.restart_requested:
            return Verdict(DeploymentState.RESTARTING, PodAction.RESTART)
        if obs.setup_failed is not None and not obs.setup_ready:
            return Verdict(
                DeploymentState.FAILED,
                reason=f"setup failed: {obs.setup_failed}. The pod still runs and bills: "
                "restart to try again, or stop or terminate it",
            )
        return Verdict(DeploymentState.READY if obs.setup_ready else DeploymentState.INSTALLING)
    return Verdict(DeploymentState.FAILED, reason=f"unknown RunPod status {status!r}")
