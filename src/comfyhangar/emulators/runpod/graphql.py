"""A small stand-in for RunPod's GraphQL API: `POST /graphql` answering `myself { ... }`.

Only the account fields ComfyHangar reads are served (`clientBalance`, plus `id` and `email`).
It behaves like RunPod's GraphQL (shared/reference/runpod-graphql-notes.md §1): the bearer key is
checked by the emulator's front like every other route (401 when rejected); a body that is not a
GraphQL request, or a field the `User` type lacks, is a validation error (HTTP 400 with
`errors`); a well-formed query the stand-in does not serve answers HTTP 200 with `errors` and
`data: null`, as RunPod's business errors do.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from comfyhangar.emulators.runpod.asgi import json_response

if TYPE_CHECKING:
    from comfyhangar.emulators.runpod.emulator import RunPodEmulator

EMULATED_USER_ID = "user_emulated"
EMULATED_EMAIL = "emulator@comfyhangar.invalid"
USER_FIELDS = frozenset({"id", "email", "clientBalance"})

# `query [Name] { myself { a b c } }` or the shorthand `{ myself { ... } }`.
_MYSELF = re.compile(r"^\s*(?:query\b\s*\w*\s*)?\{\s*myself\s*\{([^{}]*)\}\s*\}\s*$")


def _errors(message: str, status: int) -> Response:
    return json_response({"errors": [{"message": message}], "data": None}, status)


async def graphql(emu: RunPodEmulator, request: Request, _: dict[str, str]) -> Response:
    try:
        body: Any = json.loads(await request.body())
    except ValueError:
        return _errors("POST body sent invalid JSON.", 400)
    query = body.get("query") if isinstance(body, dict) else None
    if not isinstance(query, str) or not query.strip():
        return _errors("Must provide query string.", 400)
    match = _MYSELF.match(query)
    if match is None:
        return _errors("This query is not served by the ComfyHangar RunPod emulator.", 200)
    fields = [f for f in re.split(r"[\s,]+", match.group(1)) if f]
    if not fields:
        return _errors('Field "myself" of type "User" must have a selection of subfields.', 400)
    unknown = [f for f in fields if f not in USER_FIELDS]
    if unknown:
        return _errors(f'Cannot query field "{unknown[0]}" on type "User".', 400)
    values: dict[str, Any] = {
        "id": EMULATED_USER_ID,
        "email": EMULATED_EMAIL,
        "clientBalance": round(emu.balance, 6),
    }
    return json_response({"data": {"myself": {f: values[f] for f in fields}}})
