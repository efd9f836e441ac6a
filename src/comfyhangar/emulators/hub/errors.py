"""Refusals as the real hubs word them: status, headers and body.

Hugging Face puts the reason in `X-Error-Code` / `X-Error-Message` (what `huggingface_hub`'s
`hf_raise_for_status` reads) and repeats the message as the body: plain text on `/resolve/`,
`{"error": ...}` JSON for a bad revision. Civitai answers JSON only. Sources in `__init__.py`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from starlette.responses import Response

TEXT = "text/plain; charset=utf-8"
JSON = "application/json; charset=utf-8"
WWW_AUTHENTICATE = 'Bearer realm="Authentication required", charset="UTF-8"'


@dataclass
class HubError(Exception):
    """A refusal; `status` is what a downloader sees, `response()` the whole answer."""

    status: int
    body: bytes
    media_type: str = TEXT
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        return Response(
            self.body, status_code=self.status, headers=self.headers, media_type=self.media_type
        )


def hf_error(
    status: int,
    message: str,
    code: str | None = None,
    *,
    json_body: bool = False,
    commit: str | None = None,
) -> HubError:
    """A Hugging Face refusal (`X-Error-Code` only when the hub sends one for this case)."""
    headers = {"X-Error-Message": message}
    if code is not None:
        headers["X-Error-Code"] = code
    if commit is not None:
        headers["X-Repo-Commit"] = commit
    if status == 401:
        headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    if json_body:
        return HubError(status, json.dumps({"error": message}).encode(), JSON, headers)
    return HubError(status, message.encode(), TEXT, headers)


def civitai_error(status: int, error: str, message: str | None = None) -> HubError:
    """A Civitai refusal: `{"error": ...}`, with a `message` for the login wall."""
    body: dict[str, str] = {"error": error}
    if message is not None:
        body["message"] = message
    return HubError(status, json.dumps(body, separators=(",", ":")).encode(), JSON)


# Hugging Face, word for word.
INVALID_CREDENTIALS = "Invalid credentials in Authorization header"
INVALID_USER = "Invalid username or password."
REPO_NOT_FOUND = "Repository not found"
ENTRY_NOT_FOUND = "Entry not found"


def gated_anonymous(repo_id: str) -> str:
    return (
        f"Access to model {repo_id} is restricted. You must have access to it and be "
        "authenticated to access it. Please log in."
    )


def gated_without_access(repo_id: str) -> str:
    return (
        f"Access to model {repo_id} is restricted and you are not in the authorized list. "
        f"Visit https://huggingface.co/{repo_id} to ask for access."
    )


# Civitai, word for word.
LOGIN_REQUIRED = "The creator of this asset requires you to be logged in to download it"
