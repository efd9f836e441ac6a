# ComfyHangar server image: the dashboard built with Node, then a slim Python runtime.
#
#   docker build -t comfyhangar .          (or: podman build -t comfyhangar .)
#   docker run -p 127.0.0.1:8000:8000 -v hangar-data:/data comfyhangar
#
# The base images are build arguments so that a machine without a registry can build against
# local equivalents (tests/ops/bases/ builds them from Debian packages and the npm registry).
ARG NODE_IMAGE=node:20-bookworm-slim
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- 1. the dashboard --------------------------------------------------------------------
FROM ${NODE_IMAGE} AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
# The dashboard shows the manifest format from the docs.
COPY docs/manifest.md /src/docs/manifest.md
# vite writes into the Python package (../src/comfyhangar/server/static/web)
RUN npm run build

# ---- 2. the Python environment -----------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
WORKDIR /src
# Dependencies first: this layer is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY README.md hatch_build.py ./
COPY src/ src/
COPY --from=web /src/src/comfyhangar/server/static/web/ src/comfyhangar/server/static/web/
# The dashboard is already built: the build hook ships it without running npm.
RUN HANGAR_SKIP_WEB_BUILD=1 uv sync --frozen --no-dev --no-editable

# ---- 3. the runtime ----------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 hangar \
    && useradd --system --uid 10001 --gid hangar --home-dir /data --shell /usr/sbin/nologin hangar \
    && mkdir -p /data \
    && chown hangar:hangar /data \
    && chmod 0700 /data
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HANGAR_DATA_DIR=/data \
    HANGAR_HOST=0.0.0.0 \
    HANGAR_PORT=8000
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('HANGAR_PORT', '8000'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/api/v1/health', timeout=4).status == 200 else 1)"]
CMD ["comfyhangar", "serve"]
