"""What the stand-in hubs host, and who may download it.

`HubCatalog.default()` holds every file the presets name (`server/services/presets.py`), with the
sizes Hugging Face lists, plus a README (a plain git file) and one Civitai model version. Their
content is `Synthetic` (see `content.py`); tests add small files with real bytes.

Accounts in the simulated world (real tokens cannot be checked offline):

- Hugging Face: a token of the shape Hugging Face issues (`hf_` and 34 letters or digits) is an
  account that has accepted every gated license, except the tokens in
  `hf_tokens_without_access` (by default `NO_ACCESS_HF_TOKEN`). Anything else sent as a token
  is refused as invalid credentials, as on the real hub. `DEMO_HF_TOKEN` is one that works.
- Civitai: an API key of the shape Civitai issues (32 lowercase hex digits) is a logged-in
  account; downloads that need a login are refused without one.

Sizes marked *approximate* were rounded from the hub's listing and are not verified: the
stand-in serves exactly that many bytes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

from comfyhangar.emulators.hub.content import (
    SCHEME,
    Content,
    Stored,
    Synthetic,
    git_blob_sha1,
    sha256_of,
)
from comfyhangar.emulators.hub.hashes import SYNTHETIC_SHA256

HF_TOKEN_SHAPE = re.compile(r"^hf_[A-Za-z0-9]{34}$")
CIVITAI_KEY_SHAPE = re.compile(r"^[0-9a-f]{32}$")
#: A token of an account that accepted every gated license (any well-formed token does).
DEMO_HF_TOKEN = "hf_SimulatedAccountWithAccess00000000"  # noqa: S105 - a documented demo value
#: A well-formed token of an account that accepted no gated license.
NO_ACCESS_HF_TOKEN = "hf_SimulatedAccountWithoutAccess00000"  # noqa: S105 - documented demo value
#: A Civitai API key of a logged-in account (any 32 lowercase hex digits are one).
DEMO_CIVITAI_KEY = "c0ffee00" * 4
#: File names stored in Git LFS by a new repository's default `.gitattributes`.
LFS_SUFFIXES = (".safetensors", ".ckpt", ".bin", ".pt", ".pth", ".gguf", ".onnx", ".zip")

Gated = Literal[False, "auto", "manual"]


@dataclass
class HubFile:
    """One file: its content, and whether it lives in LFS (served through the CDN)."""

    path: str
    content: Content = field(repr=False)
    lfs: bool = True
    _sha256: str | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def size(self) -> int:
        return self.content.size

    @property
    def sha256(self) -> str:
        """The sha256 of the bytes served (kept for the default files, else computed once)."""
        if self._sha256 is None:
            known = self.content.seed if isinstance(self.content, Synthetic) else None
            self._sha256 = SYNTHETIC_SHA256.get(known or "") or sha256_of(self.content)
        return self._sha256

    @property
    def etag(self) -> str:
        """Hugging Face's ETag: the sha256 for LFS files, the git blob id otherwise."""
        return self.sha256 if self.lfs else git_blob_sha1(self.content)


@dataclass
class HfRepo:
    """A Hugging Face model repository at one commit, reachable from its branches."""

    id: str
    gated: Gated = False
    files: dict[str, HubFile] = field(default_factory=dict)
    branches: tuple[str, ...] = ("main",)

    @property
    def commit(self) -> str:
        """The 40-hex commit every branch points at (synthetic, stable)."""
        return hashlib.sha1(f"{SCHEME}:{self.id}".encode(), usedforsecurity=False).hexdigest()

    def resolve(self, revision: str) -> str | None:
        """The commit a branch name or the commit id itself stands for, or None."""
        return self.commit if revision in (*self.branches, self.commit) else None


@dataclass
class CivitaiFile:
    """One file of a Civitai model version (`type`: Model, VAE, Config, Training Data ...)."""

    id: int
    blob: HubFile
    type: str = "Model"
    primary: bool = True

    @property
    def name(self) -> str:
        return self.blob.name

    @property
    def size(self) -> int:
        return self.blob.size

    @property
    def size_kb(self) -> float:
        return self.blob.size / 1024


@dataclass
class CivitaiVersion:
    """A Civitai model version; `login_required` when its creator asks downloaders to log in."""

    id: int
    model_id: int
    model_name: str
    name: str
    model_type: str = "Checkpoint"
    base_model: str = "SD 1.5"
    files: list[CivitaiFile] = field(default_factory=list)
    login_required: bool = False

    def primary_file(self) -> CivitaiFile | None:
        """The file `/api/download/models/{id}` serves: the primary one, else the first model."""
        return next((f for f in self.files if f.primary), None) or next(
            (f for f in self.files if f.type == "Model"), None
        )


@dataclass
class HubCatalog:
    """Repositories, model versions and the accounts of the simulated world."""

    hf: dict[str, HfRepo] = field(default_factory=dict)
    civitai: dict[int, CivitaiVersion] = field(default_factory=dict)
    hf_tokens_without_access: set[str] = field(default_factory=lambda: {NO_ACCESS_HF_TOKEN})

    # ---- accounts ---------------------------------------------------------------------

    @staticmethod
    def hf_token_valid(token: str) -> bool:
        """True when `token` has the shape of a Hugging Face user access token."""
        return bool(HF_TOKEN_SHAPE.match(token))

    def hf_has_access(self, token: str) -> bool:
        """True when the (well-formed) token's account accepted the gated licenses."""
        return self.hf_token_valid(token) and token not in self.hf_tokens_without_access

    @staticmethod
    def civitai_logged_in(token: str | None) -> bool:
        """True when `token` has the shape of a Civitai API key."""
        return token is not None and bool(CIVITAI_KEY_SHAPE.match(token))

    # ---- building ---------------------------------------------------------------------

    def add_hf_file(
        self,
        repo_id: str,
        path: str,
        data: bytes | None = None,
        *,
        size: int | None = None,
        gated: Gated | None = None,
        lfs: bool | None = None,
    ) -> HubFile:
        """Host a file: real `data`, or `size` synthetic bytes. `gated` changes the repo's gate;
        `lfs` defaults to Git LFS's usual rule (model weights yes, text files no)."""
        repo = self.hf.setdefault(repo_id, HfRepo(repo_id))
        if gated is not None:
            repo.gated = gated
        if data is not None:
            content: Content = Stored(data)
        elif size is not None:
            content = Synthetic(f"{repo_id}/{path}", size)
        else:
            raise ValueError("give data or size")
        in_lfs = path.lower().endswith(LFS_SUFFIXES) if lfs is None else lfs
        repo.files[path] = file = HubFile(path, content, in_lfs)
        return file

    def add_civitai_version(self, version: CivitaiVersion) -> CivitaiVersion:
        """Host a Civitai model version."""
        self.civitai[version.id] = version
        return version

    @classmethod
    def default(cls) -> HubCatalog:
        """The embedded default: every preset's files and one Civitai checkpoint."""
        catalog = cls()
        for repo_id, gated, files in _DEFAULT_HF:
            repo = catalog.hf.setdefault(repo_id, HfRepo(repo_id, gated))
            for path, size, same_as in files:
                seed = same_as or f"{repo_id}/{path}"
                repo.files[path] = HubFile(path, Synthetic(seed, size))
            repo.files["README.md"] = HubFile("README.md", Stored(_readme(repo_id)), lfs=False)
        dreamshaper = HubFile(
            "dreamshaper_8.safetensors",
            Synthetic("civitai/128713/dreamshaper_8.safetensors", 2_132_625_920),
        )
        catalog.add_civitai_version(
            CivitaiVersion(
                id=128713,
                model_id=4384,
                model_name="DreamShaper",
                name="8",
                files=[CivitaiFile(93855, dreamshaper)],
            )
        )
        return catalog


def hf_file_url(endpoint: str, repo_id: str, revision: str, path: str) -> str:
    """`{endpoint}/{repo}/resolve/{revision}/{path}`, as the hub names a file."""
    return f"{endpoint}/{repo_id}/resolve/{quote(revision, safe='')}/{quote(path)}"


_SCHNELL_AE = "black-forest-labs/FLUX.1-schnell/ae.safetensors"
# (repo, gated, [(path, size in bytes, seed of an identical file or None)])
_DEFAULT_HF: tuple[tuple[str, Gated, tuple[tuple[str, int, str | None], ...]], ...] = (
    (
        "black-forest-labs/FLUX.1-schnell",
        False,
        (
            ("flux1-schnell.safetensors", 23_782_506_688, None),
            ("ae.safetensors", 335_304_388, None),
        ),
    ),
    (
        "black-forest-labs/FLUX.1-dev",
        "auto",
        (
            ("flux1-dev.safetensors", 23_802_932_552, None),
            # The same VAE as schnell's (same bytes, same sha256).
            ("ae.safetensors", 335_304_388, _SCHNELL_AE),
        ),
    ),
    (
        "comfyanonymous/flux_text_encoders",
        False,
        (
            ("clip_l.safetensors", 246_144_152, None),
            ("t5xxl_fp16.safetensors", 9_787_841_024, None),
        ),
    ),
    # Approximate sizes (about 22 MB and about 694 MB).
    ("XLabs-AI/flux-RealismLora", False, (("lora.safetensors", 22_000_000, None),)),
    (
        "alimama-creative/FLUX.1-Turbo-Alpha",
        False,
        (("diffusion_pytorch_model.safetensors", 694_000_000, None),),
    ),
    (
        "stabilityai/stable-diffusion-xl-base-1.0",
        False,
        (("sd_xl_base_1.0.safetensors", 6_938_078_334, None),),
    ),
    ("stabilityai/sdxl-vae", False, (("sdxl_vae.safetensors", 334_641_164, None),)),
)


def default_synthetic_files() -> list[Synthetic]:
    """Every distinct synthetic content of the default catalog (what `hashes.py` covers)."""
    catalog = HubCatalog.default()
    found: dict[str, Synthetic] = {}
    files = [f for repo in catalog.hf.values() for f in repo.files.values()]
    files += [f.blob for v in catalog.civitai.values() for f in v.files]
    for file in files:
        if isinstance(file.content, Synthetic):
            found[file.content.seed] = file.content
    return sorted(found.values(), key=lambda s: s.size)


def _readme(repo_id: str) -> bytes:
    return (
        f"# {repo_id}\n\nA stand-in of this repository in ComfyHangar's simulated cloud: the files "
        "have the real names and sizes, their bytes are synthetic.\n"
    ).encode()
