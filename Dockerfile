# Pujiang Gateway: one image for every Python process of a deployment
# (`pjgw serve`, `pjgw relay`, `pjgw notary run`, `pjgw db upgrade`, `python -m devnet run`),
# plus an `anvil` target for the development EVM chain. docs/operator-guide.md explains it.
#
# No image registry is needed: every stage starts from a LOCAL Debian bookworm image that
# deploy/docker/base-image.sh makes with debootstrap from the Debian mirror (`docker
# import`), and deploy/docker/build.sh builds everything in order (BuildKit: the runtime
# stage bind-mounts the wheel):
#
#   deploy/docker/build.sh                 # pujiang-base, pujiang-node, then the images below
#   DOCKER_BUILDKIT=1 docker build -t pujiang-gateway:dev --target runtime .
#   DOCKER_BUILDKIT=1 docker build -t pujiang-anvil:dev --target anvil .
#
# Contracts: the EVM adapter reads the compiled ABIs (build/contracts/*.json) at run
# time to encode calls and decode the Bridge's events, and the artifacts are build
# outputs that are never committed. So a node stage compiles them with the same
# solc-js and lockfile as `make contracts`, and only the JSON artifacts reach the
# runtime image: no node, no solc there.

# The local base images (deploy/docker/): Debian bookworm minbase with python3 and
# python3-venv, and the same plus Debian's nodejs and npm for the build-only stage.
ARG BASE_IMAGE=pujiang-base:bookworm
ARG NODE_IMAGE=pujiang-node:bookworm

# ---- contracts: solc-js compiles contracts/*.sol; the lockfile also brings anvil ----
FROM ${NODE_IMAGE} AS contracts
# npm's registry (build.sh passes `npm config get registry` of the building machine)
ARG NPM_CONFIG_REGISTRY=https://registry.npmjs.org/
# the system trust store, which holds the building machine's local CAs (base-image.sh)
ARG NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY contracts/ contracts/
RUN node contracts/build.mjs build/contracts

# ---- anvil: the development EVM chain of deploy/compose.yaml (linux/amd64 only) ----
FROM ${BASE_IMAGE} AS anvil
COPY --from=contracts /src/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil /usr/local/bin/anvil
RUN groupadd --system --gid 10002 anvil \
    && useradd --system --no-log-init --uid 10002 --gid 10002 --shell /usr/sbin/nologin anvil \
    && mkdir -p /var/lib/anvil && chown 10002:10002 /var/lib/anvil
USER 10002:10002
WORKDIR /var/lib/anvil
VOLUME ["/var/lib/anvil"]
EXPOSE 8545
# python, not curl: the base image has no curl; eth_chainId answers once anvil listens.
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=5 \
    CMD ["python3", "-c", "import urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:8545', b'{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}', {'Content-Type': 'application/json'}), timeout=2)"]
ENTRYPOINT ["anvil"]
# One block a second, as `make run`'s anvil: automining can give two blocks the same
# timestamp, which the EVM light client rightly refuses (a header's time must exceed its
# parent's), and notaries that backfill across such a pair refuse every packet above it.
CMD ["--host", "0.0.0.0", "--port", "8545", "--block-time", "1", "--prune-history", "--disable-block-gas-limit", "--state", "/var/lib/anvil/state.json"]

# ---- wheel: the project as a wheel (the same `pip wheel .` works outside Docker) ----
FROM ${BASE_IMAGE} AS wheel
# PyPI's index (build.sh passes the building machine's pip index)
ARG PIP_INDEX_URL=https://pypi.org/simple
# pip trusts the system store (with the building machine's local CAs), not its own bundle
ARG PIP_CERT=/etc/ssl/certs/ca-certificates.crt
WORKDIR /src
COPY pyproject.toml README.md ./
COPY core/ core/
COPY proofs/ proofs/
COPY adapters/ adapters/
COPY relayer/ relayer/
COPY notary/ notary/
COPY gateway/ gateway/
COPY devnet/ devnet/
COPY devtools/ devtools/
RUN python3 -m venv /opt/build \
    && /opt/build/bin/pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# ---- runtime: the hub and its processes ----
FROM ${BASE_IMAGE} AS runtime
ARG PIP_INDEX_URL=https://pypi.org/simple
ARG PIP_CERT=/etc/ssl/certs/ca-certificates.crt
# Debian's python3 in a virtual environment (PEP 668: Debian's own site-packages stay
# untouched); its bin/ comes first on PATH, so `python` and `pjgw` are the venv's.
ENV VIRTUAL_ENV=/opt/pjgw \
    PATH=/opt/pjgw/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Dependencies in their own layer: it is rebuilt only when pyproject.toml changes.
# The list (and the fast BLS extra) is read from pyproject itself, so it cannot drift.
RUN python3 -m venv /opt/pjgw
COPY pyproject.toml ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; print('\n'.join(p['dependencies'] + p['optional-dependencies']['fast']))" > /tmp/requirements.txt \
    && pip install --requirement /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself, from the wheel stage's wheel (bind-mounted: no layer, no copy of
# the source in the image); --no-deps leaves the dependency layer above untouched.
RUN --mount=type=bind,from=wheel,source=/wheels,target=/wheels \
    pip install --no-deps /wheels/pujiang_gateway-*.whl
COPY --from=contracts /src/build/contracts/ /app/build/contracts/

# Non-root; the data directory (SQLite store, devnet chain, notary logs) is a volume.
# /var/lib/pjgw-tokens: where compose's one-shot `pjgw keys create --token-file` leaves
# the notaries' API tokens (it exists in the image so a fresh volume is owned by pjgw).
RUN groupadd --system --gid 10001 pjgw \
    && useradd --system --no-log-init --uid 10001 --gid 10001 --shell /usr/sbin/nologin pjgw \
    && mkdir -p /var/lib/pjgw /var/lib/pjgw-tokens \
    && chown 10001:10001 /var/lib/pjgw /var/lib/pjgw-tokens
ENV PJGW_HOST=0.0.0.0 \
    PJGW_PORT=8080 \
    PJGW_DATA_DIR=/var/lib/pjgw \
    PJGW_CONTRACTS_DIR=/app/build/contracts
USER 10001:10001
WORKDIR /var/lib/pjgw
VOLUME ["/var/lib/pjgw"]
EXPOSE 8080

# Liveness of `pjgw serve` (/healthz); processes without the API disable it in compose.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PJGW_PORT', '8080'), timeout=4)"]

CMD ["pjgw", "serve"]
