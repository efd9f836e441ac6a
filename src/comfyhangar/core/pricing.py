"""RunPod's billing rules, in one place, each with its source and the date it was read.

Used by the RunPod emulator (to bill simulated pods) and by the cost meter (to integrate
what it observes). Rates are USD. Storage rates are per GB-month and converted to per-hour
with `HOURS_PER_MONTH`.

Sources (read 2026-11-26 from the RunPod docs snapshot `runpod/docs@a900806e`, 2026-08-20,
summarised in shared/reference/runpod-api.md §5):
- pods/pricing.mdx, pods/storage/types.mdx, accounts-billing/billing.mdx: compute and storage are
  billed per second; container disk and volume disk $0.10/GB-month while the pod runs; volume disk
  $0.20/GB-month while stopped; container disk is not charged while stopped (it is wiped);
  network volumes $0.07/GB-month under 1 TB and $0.05/GB-month beyond, whether or not a pod
  is attached.
- openapi-rest-v2.json `Pod.cost`: the running rate in USD/hour, 0 while EXITED or TERMINATED.

Assumptions (RunPod does not document them; chosen here and applied everywhere alike):
- A month is 730 hours.
- GPU time bills only while the pod is RUNNING.
- "Running" storage rates apply while the pod holds a machine: PROVISIONING, STARTING, RUNNING.
  EXITED and ERROR pods bill their volume at the stopped rate; TERMINATED pods bill nothing.
- The $0.05 rate applies to the whole volume once it is 1 TB (1000 GB) or more.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

HOURS_PER_MONTH: Final = Decimal(730)

CONTAINER_DISK_RUNNING_PER_GB_MONTH: Final = Decimal("0.10")
VOLUME_DISK_RUNNING_PER_GB_MONTH: Final = Decimal("0.10")
VOLUME_DISK_STOPPED_PER_GB_MONTH: Final = Decimal("0.20")
NETWORK_VOLUME_PER_GB_MONTH: Final = Decimal("0.07")
NETWORK_VOLUME_LARGE_PER_GB_MONTH: Final = Decimal("0.05")
NETWORK_VOLUME_LARGE_FROM_GB: Final = 1000

GPU_BILLING_STATUSES: Final = frozenset({"RUNNING"})
HOLDS_MACHINE_STATUSES: Final = frozenset({"PROVISIONING", "STARTING", "RUNNING"})
STOPPED_STATUSES: Final = frozenset({"EXITED", "ERROR"})


@dataclass(frozen=True)
class PodRate:
    """What a pod costs per hour in one status, split as RunPod's billing records split it."""

    gpu: Decimal
    disk: Decimal

    @property
    def total(self) -> Decimal:
        return self.gpu + self.disk


def pod_rate_per_hour(
    status: str,
    *,
    gpu_price_per_hour: Decimal,
    gpu_count: int,
    container_disk_gb: int,
    volume_gb: int,
) -> PodRate:
    """The hourly rate of a pod in `status` (a v2 `PodStatus`).

    `gpu_price_per_hour` is the price of one GPU in the pod's cloud; `volume_gb` is the
    pod's own volume disk (`mounts.persistent.size`), 0 when it has none or uses a
    network volume (billed separately by `network_volume_rate_per_hour`).
    """
    gpu = gpu_price_per_hour * gpu_count if status in GPU_BILLING_STATUSES else Decimal(0)
    if status in HOLDS_MACHINE_STATUSES:
        per_month = (
            CONTAINER_DISK_RUNNING_PER_GB_MONTH * container_disk_gb
            + VOLUME_DISK_RUNNING_PER_GB_MONTH * volume_gb
        )
    elif status in STOPPED_STATUSES:
        per_month = VOLUME_DISK_STOPPED_PER_GB_MONTH * volume_gb
    else:
        per_month = Decimal(0)
    return PodRate(gpu=gpu, disk=per_month / HOURS_PER_MONTH)


def network_volume_rate_per_hour(size_gb: int) -> Decimal:
    """The hourly rate of a network volume of `size_gb`, billed whether or not it is attached."""
    per_gb = (
        NETWORK_VOLUME_LARGE_PER_GB_MONTH
        if size_gb >= NETWORK_VOLUME_LARGE_FROM_GB
        else NETWORK_VOLUME_PER_GB_MONTH
    )
    return per_gb * size_gb / HOURS_PER_MONTH
