"""`/comfyui-servers`: ComfyUI servers that ComfyHangar does not manage, as run targets."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from comfyhangar.server.deps import RuntimeDep
from comfyhangar.server.schemas.workflows import ServerCreate, ServerList, ServerView
from comfyhangar.server.services.comfyui_servers import server_view

router = APIRouter(prefix="/comfyui-servers", tags=["comfyui-servers"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ServerView)
async def create_comfyui_server(body: ServerCreate, runtime: RuntimeDep) -> ServerView:
    """Register a ComfyUI (a local one, a pod made elsewhere): runs can target it. The auth
    header's value is kept as a secret, sent only to that server and never shown."""
    return server_view(await runtime.servers.create(body))


@router.get("", response_model=ServerList)
async def list_comfyui_servers(runtime: RuntimeDep) -> ServerList:
    """Every registered server, by name."""
    return ServerList(items=[server_view(s) for s in await runtime.servers.list()])


@router.get("/{server_id}", response_model=ServerView)
async def get_comfyui_server(server_id: str, runtime: RuntimeDep) -> ServerView:
    return server_view(await runtime.servers.get(server_id))


@router.delete("/{server_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_comfyui_server(server_id: str, runtime: RuntimeDep) -> Response:
    """Forget a server; runs on it that have not ended fail (their target is gone)."""
    await runtime.servers.delete(server_id)
    runtime.dispatcher.wake()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
