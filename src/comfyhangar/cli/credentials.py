"""Where the CLI finds the API token it sends, and where `comfyhangar login` keeps it.

In order: `HANGAR_TOKEN` in the environment; the token `comfyhangar login` saved for this
server URL in the user's config file (`$XDG_CONFIG_HOME/comfyhangar/credentials.json`, else
`~/.config/...`, mode 0600); and, for a server on this machine (a loopback URL), the admin
token file that the server's first start wrote into its data directory (`HANGAR_DATA_DIR`, else
the same default as the server's). So `comfyhangar serve` in one terminal and any command in
another work with no login step.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

from comfyhangar.cli.client import CliError

TOKEN_ENV = "HANGAR_TOKEN"  # noqa: S105 - a variable name
CREDENTIALS_FILE = "credentials.json"
ADMIN_TOKEN_FILE = "admin-token"  # noqa: S105 - a file name, as the server writes it


def config_dir() -> Path:
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else Path.home() / ".config") / "comfyhangar"


def credentials_path() -> Path:
    return config_dir() / CREDENTIALS_FILE


def server_data_dir() -> Path:
    """The data directory a local server uses: `HANGAR_DATA_DIR`, else the server's default."""
    configured = os.environ.get("HANGAR_DATA_DIR")
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "comfyhangar"


def is_local(base_url: str) -> bool:
    host = (urlsplit(base_url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def _saved() -> dict[str, str]:
    try:
        data = json.loads(credentials_path().read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {credentials_path()}: {exc}") from None
    servers = data.get("servers") if isinstance(data, dict) else None
    return {k: v for k, v in (servers or {}).items() if isinstance(v, str)}


def find_token(base_url: str) -> str | None:
    """The token to send to `base_url`, or None (the server will say 401 and how to sign in)."""
    if token := os.environ.get(TOKEN_ENV, "").strip():
        return token
    if saved := _saved().get(base_url):
        return saved
    if is_local(base_url):
        try:
            return (server_data_dir() / ADMIN_TOKEN_FILE).read_text().strip() or None
        except OSError:
            return None
    return None


def save_token(base_url: str, token: str | None) -> Path:
    """Keep (or, with None, forget) the token for `base_url`; the file is mode 0600."""
    servers = _saved()
    if token is None:
        servers.pop(base_url, None)
    else:
        servers[base_url] = token
    path = credentials_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, json.dumps({"servers": servers}, indent=2).encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path
