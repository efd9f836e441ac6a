"""Exceptions raised by the ComfyUI client, each keeping what ComfyUI said::

    ComfyUIError                    base; .status (HTTP status or None) .detail
    ├── ComfyUIUnreachable          no usable answer: refused, timed out, dropped, or a proxy's
    │                               502/503/504; .outcome_unknown: the request may have acted
    ├── ComfyUIHTTPError            an answer ComfyUI should not give (401 from the token proxy,
    │                               500 with its "Server got itself in trouble", a bad body)
    ├── PromptRejected              validation refused the prompt: .error .node_errors .partial
    ├── PromptFailed                a node raised while running: .error (ComfyUI's execution_error)
    ├── PromptInterrupted           the prompt was interrupted: .interrupted
    └── PromptLost                  the prompt is in neither the queue nor the history (the
                                    server restarted, or someone deleted it)

No message ever holds a request's headers (the pod token travels there) or a URL's query.

Errors of workflows themselves, which the server answers with a 422::

    ConversionError                 a UI workflow that cannot become an API prompt
    EmbeddedMetadataError           an image whose embedded workflow cannot be read
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from comfyhangar.core.errors import InvalidInput

if TYPE_CHECKING:
    from comfyhangar.comfyui.events import ExecutionError, ExecutionInterrupted
    from comfyhangar.comfyui.wire import PromptResult


class ComfyUIError(Exception):
    """Base of every error of the ComfyUI client."""

    def __init__(self, detail: str, *, status: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status


class ComfyUIUnreachable(ComfyUIError):
    """The server gave no usable answer. `outcome_unknown`: the request was sent and may have
    taken effect (a timeout after sending, a dropped answer, a gateway error)."""

    def __init__(self, detail: str, *, status: int | None = None, outcome_unknown: bool) -> None:
        super().__init__(detail, status=status)
        self.outcome_unknown = outcome_unknown


class ComfyUIHTTPError(ComfyUIError):
    """An answer ComfyUI does not give when things are well (a status or a body out of place)."""

    def __init__(self, detail: str, *, status: int | None, body: str = "") -> None:
        super().__init__(detail, status=status)
        self.body = body[:2000]


class PromptRejected(ComfyUIError):
    """`POST /prompt` refused the prompt (HTTP 400), or accepted only part of it.

    `error` is ComfyUI's `{type, message, details, extra_info}`, `node_errors` its
    `{node_id: {errors: [...], dependent_outputs, class_type}}`. `partial`: ComfyUI answered 200
    and queued the outputs that validated; the client withdrew that partial job.
    """

    def __init__(
        self,
        error: dict[str, Any] | None,
        node_errors: dict[str, Any],
        *,
        partial: bool = False,
        status: int = 400,
    ) -> None:
        self.error = error or {}
        self.node_errors = node_errors
        self.partial = partial
        super().__init__(_rejection_text(self.error, node_errors, partial), status=status)

    def problems(self) -> list[tuple[str, str, str, str]]:
        """Each node error as (node id, class, input name or "", message with details)."""
        found = []
        for node_id, entry in self.node_errors.items():
            for error in entry.get("errors", []):
                name = str(error.get("extra_info", {}).get("input_name", ""))
                text = f"{error.get('message', '')}: {error.get('details', '')}".rstrip(": ")
                found.append((str(node_id), str(entry.get("class_type", "")), name, text))
        return found


def _rejection_text(error: dict[str, Any], node_errors: dict[str, Any], partial: bool) -> str:
    head = "ComfyUI queued only part of the prompt" if partial else "ComfyUI refused the prompt"
    parts = [str(error.get("message") or error.get("type") or "")]
    for node_id, entry in node_errors.items():
        for item in entry.get("errors", []):
            parts.append(
                f"node {node_id} ({entry.get('class_type', '?')}): {item.get('message', '')}: "
                f"{item.get('details', '')}"
            )
    return f"{head}: " + "; ".join(p for p in parts if p)


class PromptFailed(ComfyUIError):
    """A node raised while the prompt ran; `error` is ComfyUI's execution_error, whole (None
    only if the history said "error" without one)."""

    def __init__(self, result: PromptResult) -> None:
        self.result = result
        self.error: ExecutionError | None = result.error
        error = self.error
        if error is None:
            super().__init__(f"prompt {result.prompt_id} failed")
        else:
            super().__init__(
                f"node {error.node_id} ({error.node_type}) failed: {error.exception_type}: "
                f"{error.exception_message.strip()}"
            )


class PromptInterrupted(ComfyUIError):
    """The prompt was interrupted (by us or anyone else) at `interrupted.node_id`."""

    def __init__(self, result: PromptResult) -> None:
        self.result = result
        self.interrupted: ExecutionInterrupted | None = result.interrupted
        where = self.interrupted
        text = f"at node {where.node_id} ({where.node_type})" if where is not None else ""
        super().__init__(f"prompt {result.prompt_id} was interrupted {text}".rstrip())


class PromptLost(ComfyUIError):
    """The prompt is neither queued, running nor in the history: it will not finish."""

    def __init__(self, prompt_id: str) -> None:
        self.prompt_id = prompt_id
        super().__init__(
            f"prompt {prompt_id} is neither queued nor in the history (ComfyUI restarted, or "
            "it was deleted)"
        )



class ConversionError(InvalidInput):
    """A UI workflow that cannot become an API prompt; names the node when one is at fault.

    `reason` is a stable code: `invalid_workflow`, `unknown_node_type`, `missing_link`,
    `missing_link_origin`, `missing_slot`, `cycle`, `invalid_widget_value`, `needs_browser`,
    `primitive_in_subgraph`, `group_node_unsupported`, `too_large`. The server answers it
    with a 422.
    """

    code = "workflow_not_convertible"

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        node_id: str | None = None,
        node_type: str | None = None,
    ) -> None:
        details = {"reason": reason, "node_id": node_id, "node_type": node_type}
        super().__init__(message, details={k: v for k, v in details.items() if v is not None})
        self.reason = reason
        self.node_id = node_id
        self.node_type = node_type


class EmbeddedMetadataError(InvalidInput):
    """An image whose embedded workflow cannot be read.

    `reason`: `not_an_image`, `corrupt_image`, `invalid_json`, `too_large` (nothing over the
    limits is read whole).
    """

    code = "invalid_workflow_image"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, details={"reason": reason})
        self.reason = reason
