"""The API as clients see it: the OpenAPI document, Swagger UI, and fuzzing from the schema."""

from __future__ import annotations

from tests.server.conftest import FLUX_DEPLOY, Hangar, fast_settings, hangar

__all__ = ["FLUX_DEPLOY", "Hangar", "fast_settings", "hangar"]
