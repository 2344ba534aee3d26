#!/usr/bin/env bash
# `make docker-test`: build what is missing, run deploy/compose.yaml, move a transfer each
# way through it (deploy/docker/smoke.py), check it stops cleanly, remove it with its
# volumes. Exits non-zero on any failure, after printing every container's log.
#
# Needs a running dockerd, docker-compose (v1 from Debian's docker-compose, or set COMPOSE,
# e.g. COMPOSE="docker compose"), debootstrap for the first base image, python3.
# The stack runs as its own compose project (pjgw-docker-test) with a throw-away env file
# made from deploy/.env.example: a random PostgreSQL password and free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD

DOCKER=${DOCKER:-$(command -v /usr/bin/docker || command -v docker)}
export DOCKER
read -r -a COMPOSE_CMD <<<"${COMPOSE:-docker-compose}"
PROJECT=${PJGW_DOCKER_TEST_PROJECT:-pjgw-docker-test}
STOP_TIMEOUT=30
started=$(date +%s)

step() {  # a progress line with the seconds since the start
    echo ">> [$(($(date +%s) - started)) s] $*"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

work=$(mktemp -d)
env_file=$work/env
grep -v -e '^POSTGRES_PASSWORD=' -e '^PJGW_API_PORT=' -e '^PJGW_DEVNET_PORT=' \
    -e '^PJGW_ANVIL_PORT=' deploy/.env.example >"$env_file"
{
    echo "POSTGRES_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
    echo "PJGW_API_PORT=$(free_port)"
    echo "PJGW_DEVNET_PORT=$(free_port)"
    echo "PJGW_ANVIL_PORT=$(free_port)"
} >>"$env_file"
# shellcheck disable=SC1090
. "$env_file"

compose() {
    "${COMPOSE_CMD[@]}" --project-name "$PROJECT" --env-file "$env_file" \
        --file deploy/compose.yaml --project-directory deploy "$@"
}

status=1
finish() {
    if [ "$status" -ne 0 ]; then
        echo "== docker-test FAILED: the containers' state and logs" >&2
        compose ps -a >&2 || true
        compose logs --no-color --timestamps >&2 || true
    fi
    step "docker-compose down --volumes"
    compose down --volumes --remove-orphans --timeout "$STOP_TIMEOUT" >/dev/null 2>&1 || true
    rm -rf "$work"
    echo ">> docker-test took $(($(date +%s) - started)) s; $([ "$status" -eq 0 ] && echo passed || echo FAILED)"
    exit "$status"
}
trap finish EXIT

step "building the images"
deploy/docker/build.sh

step "a stack left over by an earlier run is removed first"
compose down --volumes --remove-orphans --timeout "$STOP_TIMEOUT" >/dev/null 2>&1 || true

step "docker-compose up (project $PROJECT; API on 127.0.0.1:$PJGW_API_PORT)"
compose up -d --no-build

step "published ports: loopback only"
for service in hub devnet anvil; do
    published=$(compose port "$service" "$(case $service in hub) echo 8080 ;; devnet) echo 26657 ;; anvil) echo 8545 ;; esac)")
    case "$published" in
        127.0.0.1:*) echo "   $service -> $published" ;;
        *) echo "$service is published on '$published', not on 127.0.0.1 only" >&2; exit 1 ;;
    esac
done
python3 - "$PJGW_API_PORT" <<'PY'
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/healthz"
deadline = time.monotonic() + 120
while True:
    try:
        urllib.request.urlopen(url, timeout=3)
        print(f"   {url}: 200 from the host")
        break
    except OSError as err:
        if time.monotonic() > deadline:
            sys.exit(f"{url} did not answer from the host: {err}")
        time.sleep(1)
PY

step "the transfers (deploy/docker/smoke.py in a container of the hub's image)"
compose run --rm --no-deps -T -e DEVNET_SEED="$DEVNET_SEED" \
    -v "$REPO/deploy/docker/smoke.py:/opt/pjgw-smoke/smoke.py:ro" \
    hub python /opt/pjgw-smoke/smoke.py

step "docker-compose stop: every process ends on SIGTERM within ${STOP_TIMEOUT} s"
compose stop --timeout "$STOP_TIMEOUT"
killed=0
for id in $(compose ps -q); do
    read -r name code <<<"$("$DOCKER" inspect --format '{{.Name}} {{.State.ExitCode}}' "$id")"
    echo "   ${name#/}: exit $code"
    if [ "$code" = 137 ]; then killed=1; fi
done
if [ "$killed" -ne 0 ]; then
    echo "a container had to be killed (exit 137): it ignored SIGTERM" >&2
    exit 1
fi
status=0
