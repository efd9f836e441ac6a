"""Data centers, the CUDA versions their machines report, and the default GPU stock.

Data center ids and the 17 global-networking DCs: RunPod docs via shared/reference/runpod-api.md
§2.9. Names, regions, countries, volume tiers and compliance lists are the emulator's own
plausible sample data, as are the CUDA versions per machine and the stock levels.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from comfyhangar.emulators.runpod.catalog import GPU_TYPES, GpuType

GLOBAL_NETWORK_DCS = frozenset(
    [
        "CA-MTL-3",
        "EU-CZ-1",
        "EU-FR-1",
        "EU-NL-1",
        "EU-RO-1",
        "EU-SE-1",
        "EUR-IS-2",
        "OC-AU-1",
        "US-CA-2",
        "US-GA-1",
        "US-GA-2",
        "US-IL-1",
        "US-KS-2",
        "US-NC-1",
        "US-TX-3",
        "US-TX-4",
        "US-WA-1",
    ]
)


@dataclass(frozen=True)
class DataCenter:
    """One data center (`GET /v2/catalog/datacenters`)."""

    id: str
    name: str
    region: str
    country: str
    volume_types: tuple[str, ...] = ("STANDARD",)
    compliance: tuple[str, ...] = ("ISO_IEC_27001", "SOC_2_TYPE_2")
    global_network: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "global_network", self.id in GLOBAL_NETWORK_DCS)


NA, EU, OC, AS = "NORTH_AMERICA", "EUROPE", "OCEANIA", "ASIA"
BOTH = ("STANDARD", "HIGH_PERFORMANCE")
GDPR = ("GDPR", "ISO_IEC_27001", "SOC_2_TYPE_2")
DATA_CENTERS: tuple[DataCenter, ...] = (
    DataCenter("EU-RO-1", "Europe Romania 1", EU, "RO", BOTH, GDPR),
    DataCenter("CA-MTL-1", "Canada Montreal 1", NA, "CA"),
    DataCenter("EU-SE-1", "Europe Sweden 1", EU, "SE", BOTH, (*GDPR, "RENEWABLE")),
    DataCenter("US-IL-1", "US Illinois 1", NA, "US"),
    DataCenter("EUR-IS-1", "Europe Iceland 1", EU, "IS", ("STANDARD",), (*GDPR, "RENEWABLE")),
    DataCenter("EU-CZ-1", "Europe Czechia 1", EU, "CZ", ("STANDARD",), GDPR),
    DataCenter("US-TX-3", "US Texas 3", NA, "US", BOTH),
    DataCenter("EUR-IS-2", "Europe Iceland 2", EU, "IS", ("STANDARD",), (*GDPR, "RENEWABLE")),
    DataCenter("US-KS-2", "US Kansas 2", NA, "US", BOTH, ("SOC_2_TYPE_2", "ISO_IEC_27001")),
    DataCenter("US-GA-2", "US Georgia 2", NA, "US"),
    DataCenter("US-WA-1", "US Washington 1", NA, "US"),
    DataCenter("US-TX-1", "US Texas 1", NA, "US", ()),
    DataCenter("CA-MTL-3", "Canada Montreal 3", NA, "CA"),
    DataCenter("EU-NL-1", "Europe Netherlands 1", EU, "NL", ("STANDARD",), GDPR),
    DataCenter("US-TX-4", "US Texas 4", NA, "US"),
    DataCenter("US-CA-2", "US California 2", NA, "US", BOTH),
    DataCenter("US-NC-1", "US North Carolina 1", NA, "US"),
    DataCenter("OC-AU-1", "Oceania Australia 1", OC, "AU"),
    DataCenter("US-DE-1", "US Delaware 1", NA, "US", ()),
    DataCenter("EUR-IS-3", "Europe Iceland 3", EU, "IS", (), GDPR),
    DataCenter("CA-MTL-2", "Canada Montreal 2", NA, "CA"),
    DataCenter("AP-JP-1", "Asia Japan 1", AS, "JP", ()),
    DataCenter("EUR-NO-1", "Europe Norway 1", EU, "NO", ("STANDARD",), GDPR),
    DataCenter("EU-FR-1", "Europe France 1", EU, "FR", ("STANDARD",), GDPR),
    DataCenter("US-KS-3", "US Kansas 3", NA, "US"),
    DataCenter("US-GA-1", "US Georgia 1", NA, "US"),
)
DCS_BY_ID = {dc.id: dc for dc in DATA_CENTERS}

# GPUs with no stock anywhere by default, and GPUs found in a single data center only.
SOLD_OUT = frozenset({"NVIDIA B300 SXM6 AC", "NVIDIA GeForce RTX 3070", "Tesla V100-SXM2-32GB"})
SCARCE = frozenset(
    {"NVIDIA H200", "NVIDIA B200", "NVIDIA H100 80GB HBM3", "AMD Instinct MI300X OAM"}
)


def _hash(*parts: str) -> int:
    return zlib.crc32("|".join(parts).encode())


def cuda_versions_at(gpu: GpuType, dc_id: str) -> tuple[str, ...]:
    """CUDA versions reported by this GPU type's machines in `dc_id` (oldest may be missing)."""
    if not gpu.cuda:
        return ()
    skip = _hash(gpu.id, dc_id, "cuda") % 2
    return gpu.cuda[skip:]


def default_stock() -> dict[tuple[str, str, str], int]:
    """Free GPUs per (gpu id, data center id, cloud) at start: plenty, scarce, or none."""
    stock: dict[tuple[str, str, str], int] = {}
    for gpu in GPU_TYPES:
        if gpu.id in SOLD_OUT:
            continue
        for cloud in ("SECURE", "COMMUNITY"):
            if gpu.max_count(cloud) == 0:
                continue
            for dc in DATA_CENTERS:
                h = _hash(gpu.id, dc.id, cloud)
                if gpu.id in SCARCE:
                    if dc.id == DATA_CENTERS[_hash(gpu.id) % len(DATA_CENTERS)].id:
                        stock[(gpu.id, dc.id, cloud)] = 2
                elif h % 3 != 0:
                    stock[(gpu.id, dc.id, cloud)] = 2 + h % 15
    for dc_id in ("US-KS-2", "EU-RO-1"):
        stock[("NVIDIA GeForce RTX 4090", dc_id, "SECURE")] = 16
    return stock
