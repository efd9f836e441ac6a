"""One settings object for the whole server, read from `HANGAR_*` variables and `.env`.

Paths are derived on access from `data_dir`, so tests can point everything at a temporary
folder with one variable. A bad value stops start-up with a message that names the variable
(`SettingsError`), never a traceback.
"""

from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "HANGAR_"
DEFAULT_RUNPOD_API_URL = "https://api.runpod.io/v2"
# One entry of HANGAR_ALLOWED_HOSTS: `*`, or a host name (optionally `*.` for its subdomains),
# an IPv4 address or a bracketed IPv6 address, with an optional `:port`.
_ALLOWED_HOST = re.compile(
    r"\*|(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
    r"(?::\d{1,5})?|\[[0-9a-f:.]+\](?::\d{1,5})?"
)


def default_data_dir() -> Path:
    """`$XDG_DATA_HOME/comfyhangar`, or `~/.local/share/comfyhangar` when XDG is unset."""
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "comfyhangar"


class SettingsError(Exception):
    """The environment holds a value the server cannot start with."""


class Settings(BaseSettings):
    """Everything the server can be told from outside. Env names are `HANGAR_<FIELD>`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL; default: SQLite file in the data directory.",
    )
    database_pool_size: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="Database connections kept open per process (as many again may open "
        "under load)",
    )
    database_pool_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="How long a request waits for a database connection before a 503",
    )
    runpod_api_key: SecretStr | None = None
    runpod_api_url: str = DEFAULT_RUNPOD_API_URL
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    allowed_hosts: str = Field(
        default="",
        description="Host header values served besides this machine's loopback names (comma "
        "separated: name, name:port, *.domain, or * for any)",
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="`text`: one line per record for people; `json`: one JSON object per line",
    )
    reconcile_interval_s: float = Field(
        default=5.0, gt=0, description="Seconds between reconcile cycles"
    )
    billing_check_interval_s: float = Field(
        default=600.0,
        gt=0,
        description="Seconds between checks of the meter against RunPod billing",
    )
    lease_s: float = Field(
        default=30.0, gt=0, description="How long one process may act on a pod unrenewed"
    )
    create_settle_s: float = Field(
        default=30.0, ge=0, description="Wait after an interrupted create before creating again"
    )
    volume_meter_interval_s: float = Field(
        default=60.0, ge=0, description="Real seconds between network volume metering passes"
    )
    event_poll_s: float = Field(
        default=1.0,
        gt=0,
        le=300,
        description="Seconds between the live event streams' safety-net reads of the event "
        "table (commits wake them at once; on PostgreSQL so does NOTIFY from other processes)",
    )
    emulator_speed: float = Field(
        default=1.0, gt=0, description="Simulated seconds per real second of the embedded emulator"
    )
    allowed_download_hosts: str = Field(
        default="",
        description="Extra hosts (comma or space separated) manifests may download from",
    )
    insecure_allow_http: bool = Field(
        default=False, description="Tests only: allow plain http for downloads and preflight"
    )
    preflight: bool = Field(
        default=True,
        description="Check models (access, sizes) against Hugging Face / Civitai before deploying",
    )
    output_dir: Path | None = Field(
        default=None,
        description="Where run outputs are copied (default: outputs/ in the data directory)",
    )
    output_s3_bucket: str | None = Field(
        default=None,
        description="Copy run outputs to this S3-compatible bucket instead of output_dir "
        "(credentials: the AWS chain, such as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
    )
    output_s3_prefix: str = Field(default="", description="Key prefix in the bucket")
    output_s3_endpoint_url: str | None = Field(
        default=None, description="The S3 endpoint (MinIO, R2, ...); default: AWS"
    )
    output_s3_region: str | None = Field(default=None, description="The bucket's region")
    hf_endpoint: str = Field(default="https://huggingface.co", description="Hugging Face hub")
    civitai_endpoint: str = Field(default="https://civitai.com", description="Civitai")

    idle_action: Literal["stop", "terminate", "off"] = Field(
        default="stop",
        description="Default idle policy: what is done to a pod nobody used for "
        "HANGAR_IDLE_MINUTES (off: nothing)",
    )
    idle_minutes: float = Field(
        default=30.0,
        gt=0,
        le=7 * 24 * 60,
        description="Default idle policy: minutes without activity before the idle action",
    )
    idle_warn_minutes: float = Field(
        default=5.0, ge=0, description="Default idle policy: minutes of warning before it"
    )
    idle_terminate_after_stopped_days: float | None = Field(
        default=None,
        gt=0,
        le=90,
        description="Default idle policy: terminate a deployment stopped this many days "
        "(unset: never)",
    )
    idle_check_interval_s: float = Field(
        default=30.0, gt=0, le=3600, description="Seconds between the idle guard's looks"
    )

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// (async drivers only)"
            )
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _host_entries(cls, value: str) -> str:
        entries = [e.strip().lower() for e in value.split(",") if e.strip()]
        bad = [e for e in entries if not _ALLOWED_HOST.fullmatch(e)]
        if bad:
            raise ValueError(
                f"{bad[0]!r} is not a host: give names such as hangar.example.com, "
                "hangar.example.com:8443, *.example.com or 192.168.1.5, comma separated"
            )
        return ",".join(entries)

    @property
    def allowed_host_list(self) -> list[str]:
        """`allowed_hosts` as its entries (lower case)."""
        return [e for e in self.allowed_hosts.split(",") if e]

    @field_validator("runpod_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL such as https://api.runpod.io/v2")
        return value.rstrip("/")

    @field_validator("hf_endpoint", "civitai_endpoint")
    @classmethod
    def _endpoint_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _https_endpoints(self) -> Settings:
        for name in ("hf_endpoint", "civitai_endpoint"):
            if getattr(self, name).startswith("http://") and not self.insecure_allow_http:
                raise ValueError(
                    f"{name}: must be https (http only with HANGAR_INSECURE_ALLOW_HTTP=1)"
                )
        return self

    @model_validator(mode="after")
    def _idle_warning_before_action(self) -> Settings:
        if self.idle_warn_minutes >= self.idle_minutes:
            raise ValueError(
                "idle_warn_minutes: must be less than HANGAR_IDLE_MINUTES (the warning comes "
                "before the action)"
            )
        return self

    @property
    def extra_download_hosts(self) -> list[str]:
        """`allowed_download_hosts` split into host names."""
        return [h for h in self.allowed_download_hosts.replace(",", " ").split() if h]

    @field_validator("runpod_api_key")
    @classmethod
    def _blank_key_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            return None
        return value

    @property
    def simulated(self) -> bool:
        """True when no RunPod key is set: the embedded emulator plays the cloud."""
        return self.runpod_api_key is None

    @property
    def effective_output_dir(self) -> Path:
        """`output_dir`, or `outputs/` inside the data directory."""
        return self.output_dir or self.data_dir / "outputs"

    @cached_property
    def effective_database_url(self) -> str:
        """The configured URL, or a SQLite file inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'hangar.db'}"


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; raise `SettingsError` naming each bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            lines.append(f"{ENV_PREFIX}{field.upper()}: {err['msg']}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
