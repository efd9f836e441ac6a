"""Errors of the ComfyUI integration that a user may see."""

from __future__ import annotations

from comfyhangar.core.errors import InvalidInput


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
