#!/usr/bin/env bash
# Build every image deploy/compose.yaml runs, from the local base image up, with no image
# registry: pujiang-base (debootstrap, skipped when tagged), pujiang-node (build-only),
# pujiang-postgres, then the Dockerfile's `runtime` and `anvil` targets.
#
#   deploy/docker/build.sh          # what is already built comes from Docker's layer cache
#
# Env: PJGW_VERSION (tag of the hub and anvil images, default dev), PIP_INDEX_URL and
# NPM_CONFIG_REGISTRY (default: this machine's pip index and npm registry), DOCKER.
#
# The CLI is Debian's docker (docker.io), which has BuildKit built in (the runtime stage
# bind-mounts the wheel stage's output); a newer CLI without the buildx plugin refuses
# DOCKER_BUILDKIT=1, so /usr/bin/docker is preferred when it exists.
set -euo pipefail
cd "$(dirname "$0")/../.."

DOCKER=${DOCKER:-$(command -v /usr/bin/docker || command -v docker)}
export DOCKER DOCKER_BUILDKIT=1
TAG=${PJGW_VERSION:-dev}
BASE=${PJGW_BASE_IMAGE:-pujiang-base:bookworm}

pip_index() {
    local found=""
    if command -v pip3 >/dev/null; then found=$(pip3 config get global.index-url 2>/dev/null || true); fi
    echo "${PIP_INDEX_URL:-${found:-https://pypi.org/simple}}"
}
npm_registry() {
    local found=""
    if command -v npm >/dev/null; then found=$(npm config get registry 2>/dev/null || true); fi
    echo "${NPM_CONFIG_REGISTRY:-${found:-https://registry.npmjs.org/}}"
}

build() {  # build TAG [docker build args...]: quiet unless it fails
    local tag=$1 log
    shift
    log=$(mktemp)
    echo ">> docker build $tag"
    if ! "$DOCKER" build --progress=plain -t "$tag" "$@" >"$log" 2>&1; then
        tail -n 60 "$log" >&2
        rm -f "$log"
        echo "build of $tag failed" >&2
        return 1
    fi
    rm -f "$log"
}

deploy/docker/base-image.sh
build pujiang-node:bookworm --build-arg BASE_IMAGE="$BASE" -f deploy/docker/node.Dockerfile deploy/docker
build pujiang-postgres:15-bookworm --build-arg BASE_IMAGE="$BASE" deploy/docker/postgres
common=(--build-arg BASE_IMAGE="$BASE" --build-arg NODE_IMAGE=pujiang-node:bookworm
    --build-arg PIP_INDEX_URL="$(pip_index)" --build-arg NPM_CONFIG_REGISTRY="$(npm_registry)")
build "pujiang-gateway:$TAG" "${common[@]}" --target runtime .
build "pujiang-anvil:$TAG" "${common[@]}" --target anvil .
"$DOCKER" image ls --filter reference='pujiang-*'
