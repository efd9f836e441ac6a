"""Stand-ins for Hugging Face and Civitai (and their CDN), as the agent and preflight see them.

Usage::

    hub = HubEmulator()                          # HubCatalog.default(): every preset's files
    # serve hub.hf_app, hub.civitai_app, hub.cdn_app on three origins, then:
    hub.set_origins(hf="http://127.0.0.1:9201", civitai="http://127.0.0.1:9202",
                    cdn="http://127.0.0.1:9203")

See docs/hub-emulator.md. What the real services do, and where that is written down:

- `huggingface_hub` (github.com/huggingface/huggingface_hub): `constants.py` names the headers
  `X-Repo-Commit`, `X-Linked-Etag`, `X-Linked-Size`; `file_download.py`
  (`get_hf_file_metadata`) HEADs `/resolve/`, takes the etag from `X-Linked-Etag` or `ETag` and
  the size from `X-Linked-Size` or `Content-Length`; `utils/_http.py` (`hf_raise_for_status`)
  maps `X-Error-Code` `RevisionNotFound`, `EntryNotFound`, `GatedRepo`, `RepoNotFound`, and
  reads a 401 on a repo URL without a code as "repository not found" unless the message is
  "Invalid credentials in Authorization header" (an invalid token).
- Answers of huggingface.co recorded with `curl -I` (2026, quoted in public transcripts and
  in the tests of HF-compatible mirrors): a missing file is 404, `text/plain`, body and
  `X-Error-Message` "Entry not found", `X-Error-Code: EntryNotFound`, with `X-Repo-Commit`; a
  gated repo without a token is 401 `GatedRepo`, "Access to model {id} is restricted. You must
  have access to it and be authenticated to access it. Please log in." as header and body (140
  bytes for meta-llama/Llama-3.1-8B-Instruct), with `WWW-Authenticate: Bearer realm="Authentication
  required", charset="UTF-8"`; with a token that was not granted access, 403 `GatedRepo`
  "Access to model {id} is restricted and you are not in the authorized list. Visit
  https://huggingface.co/{id} to ask for access."; a missing repo is 401 "Invalid username or
  password." (no code) when anonymous and 404 `RepoNotFound` with a token; a bad revision is
  404 `RevisionNotFound` "Invalid rev id: {rev}" with a JSON `{"error": ...}` body; an LFS file
  is a 302 whose `Content-Length` is the redirect body's, with `X-Linked-Size`, `X-Linked-Etag`
  (the quoted sha256) and `Accept-Ranges: bytes`; every answer has `X-Powered-By:
  huggingface-moon`, `X-Request-Id: Root=1-...` and `Access-Control-Expose-Headers`.
- Civitai's source (github.com/civitai/civitai): `src/pages/api/v1/model-versions/[id].ts`
  (public; 404 `{"error":"Model not found"}`, 400 `Invalid id`; `files[]` with `hashes`,
  `primary`, `downloadUrl`), `src/pages/api/download/models/[modelVersionId].ts` (redirect to a
  presigned URL named after the file; 404 `Model not found` / `Model file not found`), and the
  `download-auth` wording in `login-helpers`. API clients record the refusal of a version that
  needs a login as 401 `{"error":"Unauthorized","message":"The creator of this asset requires
  you to be logged in to download it"}` and a success as a 307 to the storage host.

Where they are not known (the CDN's answer to a bad signature, the exact JSON of every Civitai
field) the stand-ins answer like S3/CloudFront or leave the field out; `docs/hub-emulator.md`
lists what is simplified.
"""

from comfyhangar.emulators.hub.catalog import (
    DEMO_CIVITAI_KEY,
    DEMO_HF_TOKEN,
    NO_ACCESS_HF_TOKEN,
    CivitaiFile,
    CivitaiVersion,
    HfRepo,
    HubCatalog,
    HubFile,
)
from comfyhangar.emulators.hub.emulator import Download, HubEmulator, HubRequest
from comfyhangar.emulators.hub.errors import HubError

__all__ = [
    "DEMO_CIVITAI_KEY",
    "DEMO_HF_TOKEN",
    "NO_ACCESS_HF_TOKEN",
    "CivitaiFile",
    "CivitaiVersion",
    "Download",
    "HfRepo",
    "HubCatalog",
    "HubEmulator",
    "HubError",
    "HubFile",
    "HubRequest",
]
