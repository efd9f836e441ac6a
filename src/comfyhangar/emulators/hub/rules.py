"""Who gets which file: the decisions of the hubs, shared by their HTTP routes and by the
simulated pods (which "download" without HTTP).

A Hugging Face file is looked at in the order the hub does: the credentials, the repository
(a missing one is a 401 to anonymous callers, whom the hub does not tell what exists), the gate,
the revision, the file. A Civitai download needs a login only when the version's creator asks.
"""

from __future__ import annotations

from comfyhangar.emulators.hub import errors
from comfyhangar.emulators.hub.catalog import (
    CivitaiFile,
    CivitaiVersion,
    HfRepo,
    HubCatalog,
    HubFile,
)
from comfyhangar.emulators.hub.errors import HubError, civitai_error, hf_error


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization` header (the whole value when it is not `Bearer`)."""
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else authorization


def hf_resolve(
    catalog: HubCatalog, repo_id: str, revision: str, path: str, token: str | None
) -> tuple[HfRepo, str, HubFile]:
    """(repo, commit, file) of `{repo}/resolve/{revision}/{path}`, or the hub's HubError."""
    if token is not None and not catalog.hf_token_valid(token):
        raise hf_error(401, errors.INVALID_CREDENTIALS)
    repo = catalog.hf.get(repo_id)
    if repo is None:
        if token is None:
            raise hf_error(401, errors.INVALID_USER)
        raise hf_error(404, errors.REPO_NOT_FOUND, "RepoNotFound")
    if repo.gated:
        if token is None:
            raise hf_error(401, errors.gated_anonymous(repo_id), "GatedRepo")
        if not catalog.hf_has_access(token):
            raise hf_error(403, errors.gated_without_access(repo_id), "GatedRepo")
    commit = repo.resolve(revision)
    if commit is None:
        raise hf_error(404, f"Invalid rev id: {revision}", "RevisionNotFound", json_body=True)
    file = repo.files.get(path)
    if file is None:
        raise hf_error(404, errors.ENTRY_NOT_FOUND, "EntryNotFound", commit=commit)
    return repo, commit, file


def civitai_version(catalog: HubCatalog, version_id: int) -> CivitaiVersion:
    """A model version (its metadata is public, login wall or not), or a 404."""
    version = catalog.civitai.get(version_id)
    if version is None:
        raise civitai_error(404, "Model not found")
    return version


def civitai_download(
    catalog: HubCatalog, version_id: int, token: str | None
) -> tuple[CivitaiVersion, CivitaiFile]:
    """The version and the file `/api/download/models/{id}` serves, or Civitai's refusal."""
    version = civitai_version(catalog, version_id)
    file = version.primary_file()
    if file is None:
        raise civitai_error(404, "Model file not found")
    if version.login_required and not catalog.civitai_logged_in(token):
        raise civitai_error(401, "Unauthorized", errors.LOGIN_REQUIRED)
    return version, file


__all__ = ["HubError", "bearer", "civitai_download", "civitai_version", "hf_resolve"]
