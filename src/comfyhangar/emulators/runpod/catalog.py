"""The emulator's GPU types, with list prices per cloud and where each price comes from.

Prices are USD per GPU-hour. Every price carries its source in `GpuType.price_source`; where no
published RunPod figure could be found it says "estimated" and from what. Sources (all read
2026-11-26 through the project's stored search index):

- DR: runpod.io/pricing as transcribed by github.com/datareceipts/data-receipts,
  109-gpu-pricing/vendors.json ("read_on": 2026-11-09), Secure and Community rows.
- AE: runpod.io/pricing as transcribed by github.com/api-evangelist/runpod,
  plans/runpod-plans-pricing.yml ("read": 2026-10-07); one figure per GPU, no cloud named;
  taken as Secure. These GPUs are Secure-only in the emulator (community price 0, flag false).
- SPEC: the GpuType example in RunPod's openapi-rest-v2.json (Frontdoor v2.9.0, 2026-08-18).
- DB: deploybase.ai/articles/runpod-gpu-pricing (third party, 2026-03-10). Its lower column
  ("spot") equals RunPod's community prices quoted by DR for H100/A100, so it is used as the
  community price; the secure price is ESTIMATED as community x 1.4.
- EST: no published pod price found; estimated from the named GPU (scaled by VRAM/class).
- Serverless prices: docs.runpod.io/serverless/pricing (flex $/s x 3600) for the GPU groups that
  page lists. Pool ids other than the spec's `ADA_24` follow RunPod's serverless pool naming as
  remembered, not checked against a stored source.

GPU ids, display names and VRAM: RunPod docs references/gpu-types.mdx (2026-02-12), via
shared/reference/runpod-api.md §2.9. Per-GPU CUDA versions, `maxCount` and pool membership
beyond the spec's RTX 4090 example are the emulator's own plausible sample data.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

DR = "runpod.io/pricing via datareceipts/data-receipts vendors.json, read 2026-11-09"
AE = "runpod.io/pricing via api-evangelist/runpod plans, read 2026-10-07 (secure only)"
SPEC = "RunPod openapi-rest-v2.json GpuType example, 2026-08-18"
DB = "deploybase.ai 2026-03-10 (community); secure estimated as community x 1.4"


def _est(reference: str) -> str:
    return f"estimated 2026-11-26 from {reference}; no published price found"


@dataclass(frozen=True)
class GpuType:
    """One GPU type of the catalog (`GET /v2/catalog/gpus`)."""

    id: str
    name: str
    memory: int
    secure_price: Decimal
    community_price: Decimal
    price_source: str
    max_secure: int = 8
    max_community: int = 0
    pool: str | None = None
    manufacturer: str = "NVIDIA"
    cuda: tuple[str, ...] = ("12.4", "12.6", "12.8", "12.9")

    @property
    def secure(self) -> bool:
        return self.max_secure > 0

    @property
    def community(self) -> bool:
        return self.max_community > 0

    def price(self, cloud: str) -> Decimal:
        return self.secure_price if cloud == "SECURE" else self.community_price

    def max_count(self, cloud: str) -> int:
        return self.max_secure if cloud == "SECURE" else self.max_community


# Serverless flex price per GPU-hour by pool (docs.runpod.io/serverless/pricing).
SERVERLESS_POOL_PRICE = {
    "AMPERE_16": Decimal("0.576"),
    "AMPERE_24": Decimal("0.684"),
    "ADA_24": Decimal("1.116"),
    "AMPERE_48": Decimal("1.224"),
    "ADA_48_PRO": Decimal("1.908"),
    "AMPERE_80": Decimal("2.736"),
    "ADA_80_PRO": Decimal("4.176"),
    "HOPPER_141": Decimal("5.58"),
    "BLACKWELL_180": Decimal("8.64"),
}

BLACKWELL_CUDA = ("12.8", "12.9", "13.0")
D = Decimal
G = GpuType
GPU_TYPES: tuple[GpuType, ...] = (
    G("NVIDIA H100 80GB HBM3", "H100 SXM", 80, D("3.99"), D("2.69"), DR, 8, 8, "ADA_80_PRO"),
    G("NVIDIA H100 PCIe", "H100 PCIe", 80, D("2.89"), D("1.99"), DR, 8, 4, "ADA_80_PRO"),
    G("NVIDIA H100 NVL", "H100 NVL", 94, D("3.19"), D("2.59"), DR, 8, 2),
    G("NVIDIA A100 80GB PCIe", "A100 PCIe", 80, D("1.79"), D("1.19"), DR, 8, 4, "AMPERE_80"),
    G("NVIDIA A100-SXM4-80GB", "A100 SXM", 80, D("1.79"), D("1.39"), DR, 8, 8, "AMPERE_80"),
    G("NVIDIA H200", "H200 SXM", 141, D("4.59"), D("0"), AE, 8, 0, "HOPPER_141"),
    G(
        "NVIDIA B200",
        "B200",
        180,
        D("6.79"),
        D("0"),
        AE,
        8,
        0,
        "BLACKWELL_180",
        cuda=BLACKWELL_CUDA,
    ),
    G("NVIDIA B300 SXM6 AC", "B300", 288, D("7.89"), D("0"), AE, 8, 0, cuda=BLACKWELL_CUDA),
    G("NVIDIA GeForce RTX 4090", "RTX 4090", 24, D("0.44"), D("0.31"), SPEC, 8, 4, "ADA_24"),
    G("NVIDIA GeForce RTX 3090", "RTX 3090", 24, D("0.31"), D("0.22"), DB, 8, 4, "AMPERE_24"),
    G(
        "NVIDIA GeForce RTX 5090",
        "RTX 5090",
        32,
        D("0.97"),
        D("0.69"),
        DB,
        8,
        4,
        cuda=BLACKWELL_CUDA,
    ),
    G("NVIDIA L4", "L4", 24, D("0.62"), D("0.44"), DB, 8, 4, "AMPERE_24"),
    G("NVIDIA L40", "L40", 48, D("0.97"), D("0.69"), DB, 8, 4, "ADA_48_PRO"),
    G("NVIDIA L40S", "L40S", 48, D("1.11"), D("0.79"), DB, 8, 4, "ADA_48_PRO"),
    G(
        "NVIDIA RTX PRO 6000 Blackwell Server Edition",
        "RTX PRO 6000",
        96,
        D("1.25"),
        D("0.89"),
        DB,
        8,
        2,
        cuda=BLACKWELL_CUDA,
    ),
    G(
        "NVIDIA RTX PRO 6000 Blackwell Workstation Edition",
        "RTX PRO 6000 WK",
        96,
        D("1.25"),
        D("0.89"),
        _est("RTX PRO 6000 Server Edition (DB)"),
        4,
        2,
        cuda=BLACKWELL_CUDA,
    ),
    G(
        "NVIDIA RTX PRO 4500 Blackwell",
        "RTX PRO 4500",
        32,
        D("0.69"),
        D("0.49"),
        _est("RTX 5090 (DB)"),
        8,
        2,
        cuda=BLACKWELL_CUDA,
    ),
    G("NVIDIA A40", "A40", 48, D("0.40"), D("0.35"), _est("RTX A6000"), 8, 4, "AMPERE_48"),
    G(
        "NVIDIA RTX A6000",
        "RTX A6000",
        48,
        D("0.49"),
        D("0.33"),
        _est("L40 (DB)"),
        8,
        4,
        "AMPERE_48",
    ),
    G(
        "NVIDIA RTX A5000",
        "RTX A5000",
        24,
        D("0.27"),
        D("0.16"),
        _est("RTX 3090 (DB)"),
        8,
        4,
        "AMPERE_24",
    ),
    G(
        "NVIDIA RTX A4500",
        "RTX A4500",
        20,
        D("0.25"),
        D("0.19"),
        _est("RTX A5000"),
        8,
        4,
        "AMPERE_16",
    ),
    G(
        "NVIDIA RTX A4000",
        "RTX A4000",
        16,
        D("0.25"),
        D("0.17"),
        _est("RTX A5000"),
        8,
        4,
        "AMPERE_16",
    ),
    G("NVIDIA RTX A2000", "RTX A2000", 6, D("0.15"), D("0.10"), _est("RTX A4000"), 0, 4),
    G(
        "NVIDIA RTX 6000 Ada Generation",
        "RTX 6000 Ada",
        48,
        D("0.77"),
        D("0.74"),
        _est("L40 (DB)"),
        8,
        4,
        "ADA_48_PRO",
    ),
    G(
        "NVIDIA RTX 5000 Ada Generation",
        "RTX 5000 Ada",
        32,
        D("0.62"),
        D("0.45"),
        _est("RTX 5090 (DB)"),
        8,
        2,
    ),
    G(
        "NVIDIA RTX 4000 Ada Generation",
        "RTX 4000 Ada",
        20,
        D("0.26"),
        D("0.20"),
        _est("RTX A4500"),
        8,
        4,
        "AMPERE_16",
    ),
    G(
        "NVIDIA RTX 2000 Ada Generation",
        "RTX 2000 Ada",
        16,
        D("0.24"),
        D("0.15"),
        _est("RTX A4000"),
        8,
        4,
    ),
    G("NVIDIA A30", "A30", 24, D("0.30"), D("0.22"), _est("RTX 3090 (DB)"), 0, 2),
    G(
        "NVIDIA GeForce RTX 5080",
        "RTX 5080",
        16,
        D("0.50"),
        D("0.35"),
        _est("RTX 5090 (DB)"),
        0,
        4,
        cuda=BLACKWELL_CUDA,
    ),
    G(
        "NVIDIA GeForce RTX 4080 SUPER",
        "RTX 4080 SUPER",
        16,
        D("0.35"),
        D("0.25"),
        _est("RTX 4090"),
        0,
        4,
    ),
    G("NVIDIA GeForce RTX 4080", "RTX 4080", 16, D("0.33"), D("0.24"), _est("RTX 4090"), 0, 4),
    G(
        "NVIDIA GeForce RTX 4070 Ti",
        "RTX 4070 Ti",
        12,
        D("0.25"),
        D("0.18"),
        _est("RTX 4080"),
        0,
        4,
    ),
    G(
        "NVIDIA GeForce RTX 3090 Ti",
        "RTX 3090 Ti",
        24,
        D("0.34"),
        D("0.24"),
        _est("RTX 3090 (DB)"),
        0,
        4,
    ),
    G(
        "NVIDIA GeForce RTX 3080 Ti",
        "RTX 3080 Ti",
        12,
        D("0.25"),
        D("0.18"),
        _est("RTX 3090 (DB)"),
        0,
        4,
    ),
    G("NVIDIA GeForce RTX 3080", "RTX 3080", 10, D("0.24"), D("0.17"), _est("RTX 3090 (DB)"), 0, 4),
    G("NVIDIA GeForce RTX 3070", "RTX 3070", 8, D("0.18"), D("0.13"), _est("RTX 3080"), 0, 4),
    G(
        "Tesla V100-SXM2-32GB",
        "V100 SXM2 32GB",
        32,
        D("0.39"),
        D("0.27"),
        _est("RTX A6000"),
        8,
        0,
        cuda=("11.8", "12.0", "12.2"),
    ),
    G(
        "Tesla V100-PCIE-16GB",
        "Tesla V100",
        16,
        D("0.25"),
        D("0.19"),
        _est("RTX A4000"),
        0,
        4,
        cuda=("11.8", "12.0", "12.2"),
    ),
    G(
        "AMD Instinct MI300X OAM",
        "MI300X",
        192,
        D("2.99"),
        D("0"),
        _est("H100 NVL (DR) scaled by VRAM"),
        8,
        0,
        manufacturer="AMD",
        cuda=(),
    ),
)
GPUS_BY_ID = {gpu.id: gpu for gpu in GPU_TYPES}
