"""Failures on demand, so a client can be seen to cope: 5xx, slow answers, lost answers, a node
that raises. Socket drops are `ComfyUIEmulator.drop_sockets()` (they act on open connections).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RouteFault:
    """Answer the next `count` requests to `path` (`/prompt`, `/api/prompt` alike) with `status`.

    With `after_effect`, the request is handled first (a prompt is queued, a file stored) and
    only its answer is replaced: what a proxy that loses the answer looks like to a client.
    """

    path: str
    status: int = 502
    count: int = 1
    after_effect: bool = False
    method: str | None = None


@dataclass
class NodeFault:
    """Make a node raise when it runs: by class (`class_type`) or by id (`node_id`).

    `exception_type` is the qualified name ComfyUI reports (`torch.OutOfMemoryError`,
    `RuntimeError`), `message` its text. `count` runs fail (None: every run).
    """

    message: str
    exception_type: str = "RuntimeError"
    class_type: str | None = None
    node_id: str | None = None
    count: int | None = 1


@dataclass
class Faults:
    """Fault knobs; all off by default; change them at any time.

    - `latency_s`: real seconds before every HTTP request is handled (the WebSocket is not
      delayed).
    - `slow`: path -> real seconds between handling a request to that route and answering it
      (the effect happens at once, the answer is late: what outlasts a client's timeout).
    - `down`: ComfyUI is not running: every request gets the agent proxy's 502 and the
      WebSocket is refused (a pod whose ComfyUI is starting or crashed).
    - `refuse_websockets`: the WebSocket upgrade is refused (HTTP 502) while set.
    - `fail_route(...)`: 5xx for the next requests to a route (see `RouteFault`).
    - `fail_node(...)`: a node raises at run time (see `NodeFault`).
    """

    latency_s: float = 0.0
    slow: dict[str, float] = field(default_factory=dict)
    down: bool = False
    refuse_websockets: bool = False
    routes: list[RouteFault] = field(default_factory=list)
    nodes: list[NodeFault] = field(default_factory=list)

    def fail_route(
        self,
        path: str,
        status: int = 502,
        count: int = 1,
        *,
        after_effect: bool = False,
        method: str | None = None,
    ) -> None:
        """Answer the next `count` requests to `path` with `status` (see `RouteFault`)."""
        self.routes.append(RouteFault(_bare(path), status, count, after_effect, method))

    def fail_node(
        self,
        message: str,
        *,
        exception_type: str = "RuntimeError",
        class_type: str | None = None,
        node_id: str | None = None,
        count: int | None = 1,
    ) -> None:
        """Make matching nodes raise at run time (see `NodeFault`)."""
        if class_type is None and node_id is None:
            raise ValueError("name a class_type or a node_id")
        self.nodes.append(NodeFault(message, exception_type, class_type, node_id, count))

    def take_route(self, method: str, path: str) -> RouteFault | None:
        """Consume one injected failure for this request, if any."""
        bare = _bare(path)
        for fault in self.routes:
            if fault.path == bare and fault.method in (None, method) and fault.count > 0:
                fault.count -= 1
                if fault.count == 0:
                    self.routes.remove(fault)
                return fault
        return None

    def take_node(self, node_id: str, class_type: str) -> NodeFault | None:
        """Consume one injected node failure for this node, if any."""
        for fault in self.nodes:
            if fault.node_id not in (None, node_id) or fault.class_type not in (None, class_type):
                continue
            if fault.count is not None:
                fault.count -= 1
                if fault.count <= 0:
                    self.nodes.remove(fault)
            return fault
        return None

    def answer_delay(self, path: str) -> float:
        return self.slow.get(_bare(path), 0.0)


def _bare(path: str) -> str:
    """`/api/x` and `/x` are the same route."""
    path = "/" + path.lstrip("/")
    return path[4:] if path.startswith("/api/") else path
