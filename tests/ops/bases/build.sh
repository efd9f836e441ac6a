#!/usr/bin/env bash
# Build local equivalents of the Dockerfile's base images (python:3.11-slim-bookworm and
# node:20-bookworm-slim) on a machine that reaches Debian's mirrors and the npm registry but no
# container registry. Needs root, podman and debootstrap. Idempotent: images already built stay.
# Prints the `podman build` flags that select them.
#
#   podman build $(tests/ops/bases/build.sh) -t comfyhangar .
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
podman=(podman --runtime "${HANGAR_OCI_RUNTIME:-runc}")
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

have() { "${podman[@]}" image exists "$1"; }

if ! have localhost/hangar-bookworm:latest; then
  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >&2
  tar -C "$work/rootfs" -c . | "${podman[@]}" import - localhost/hangar-bookworm:latest >&2
fi
# The build context: the Containerfiles and the host's CA bundle (empty when it has none).
mkdir -p "$work/context"
cp "$here"/*.Containerfile "$work/context/"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp /etc/ssl/certs/ca-certificates.crt "$work/context/ca-bundle.crt"
else
  : > "$work/context/ca-bundle.crt"
fi
for base in python:3.11 node:20; do
  name="${base%%:*}"
  have "localhost/hangar-$base" ||
    "${podman[@]}" build -q -t "localhost/hangar-$base" \
      -f "$work/context/$name.Containerfile" "$work/context" >&2
done
echo "--build-arg PYTHON_IMAGE=localhost/hangar-python:3.11 --build-arg NODE_IMAGE=localhost/hangar-node:20"
