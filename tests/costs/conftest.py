"""Helpers for the cost reports tests: a runtime on a frozen cloud clock, and its API in-process."""

from __future__ import annotations

from tests.server.conftest import api, frozen_runtime

__all__ = ["api", "frozen_runtime"]
