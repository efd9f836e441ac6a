"""Deployment secrets: the pod token the server makes, and the user's download tokens.

Stored server-side (`deployment_secrets`), write-only through the API: they leave the server
only in the pod's create request (as env) and, for the pod token, in the owner's one-click link.

At rest they are encrypted (`SecretBox`: Fernet, AES-128-CBC with HMAC-SHA256): a database dump
alone reveals none. The key is `HANGAR_SECRET_KEY`, else `secret.key` in the data directory,
generated on the first start with mode 0600. Rotation: put a new key first in
`HANGAR_SECRET_KEY` with the old ones after it (comma separated); the next start re-encrypts
every secret with the new key, after which the old ones can go (docs/operations.md).
"""

from __future__ import annotations

import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from comfyhangar.server.db.models import ComfyUIServer, DeploymentSecret
from comfyhangar.server.services.owner_files import read_if_exists, write_owner_only
from comfyhangar.server.settings import Settings

# Secret names (not secrets).
POD_TOKEN = "pod_token"  # noqa: S105
HF_TOKEN = "hf_token"  # noqa: S105
CIVITAI_TOKEN = "civitai_token"  # noqa: S105
SEALED = "fernet:"  # what a stored value that is encrypted starts with


class SecretKeyError(Exception):
    """HANGAR_SECRET_KEY (or the key file) holds no usable key, or the key does not fit."""


class SecretBox:
    """Encrypts secrets for the database and decrypts them; the first key encrypts."""

    def __init__(self, keys: list[bytes]) -> None:
        try:
            self._fernet = MultiFernet([Fernet(k) for k in keys])
        except (ValueError, TypeError):
            raise SecretKeyError(
                "HANGAR_SECRET_KEY: each key must be 32 url-safe base64-encoded bytes "
                "(make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from None
        self.rotating = len(keys) > 1

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        """The configured keys, else the data directory's key file (made when missing)."""
        if settings.secret_key is not None:
            keys = [k.strip() for k in settings.secret_key.get_secret_value().split(",")]
            return cls([k.encode() for k in keys if k])
        path = settings.secret_key_file
        key = read_if_exists(path)
        if not key:
            key = Fernet.generate_key().decode()
            write_owner_only(path, key + "\n")
        return cls([key.encode()])

    def seal(self, value: str) -> str:
        return SEALED + self._fernet.encrypt(value.encode()).decode()

    def open(self, stored: str) -> str:
        """The secret; a value stored before encryption came is returned as it is."""
        if not stored.startswith(SEALED):
            return stored
        try:
            return self._fernet.decrypt(stored[len(SEALED) :].encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                "a stored secret does not decrypt with HANGAR_SECRET_KEY (or the data "
                "directory's secret.key): was the key changed without keeping the old one "
                "after it?"
            ) from None

    def needs_sealing(self, stored: str) -> bool:
        return not stored.startswith(SEALED) or self.rotating

    def reseal(self, stored: str) -> str:
        """The value encrypted with the first key."""
        return self.seal(self.open(stored))


def new_pod_token() -> str:
    """A fresh random pod token (43 characters of [A-Za-z0-9_-], what the agent accepts)."""
    return secrets.token_urlsafe(32)


async def load_secrets(
    sessions: async_sessionmaker[AsyncSession], deployment_id: str, box: SecretBox | None
) -> dict[str, str]:
    """Every secret of a deployment by name ({} for one made before secrets existed).
    `box` None: values as stored (only services built by hand in tests)."""
    async with sessions() as session:
        rows = await session.scalars(
            select(DeploymentSecret).where(DeploymentSecret.deployment_id == deployment_id)
        )
        return {r.name: (box.open(r.value) if box else r.value) for r in rows}


async def seal_stored_secrets(sessions: async_sessionmaker[AsyncSession], box: SecretBox) -> int:
    """Encrypt secrets stored in clear (before encryption came), or re-encrypt them all with
    the first key while rotating; how many were written. Every stored secret is opened once,
    so a key that does not fit stops the start (`SecretKeyError`) instead of failing each pod
    create later. The secrets: deployments' and registered servers' auth header values."""
    async with sessions() as session, session.begin():
        rows = list(await session.scalars(select(DeploymentSecret)))
        for row in rows:
            box.open(row.value)
        changed = [r for r in rows if box.needs_sealing(r.value)]
        for row in changed:
            row.value = box.reseal(row.value)
        servers = list(
            await session.scalars(
                select(ComfyUIServer).where(ComfyUIServer.auth_header_value.is_not(None))
            )
        )
        sealed = 0
        for server in servers:
            stored = server.auth_header_value
            assert stored is not None  # noqa: S101 - selected so
            box.open(stored)
            if box.needs_sealing(stored):
                server.auth_header_value = box.reseal(stored)
                sealed += 1
    return len(changed) + sealed
