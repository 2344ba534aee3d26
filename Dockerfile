# syntax=docker/dockerfile:1
# Pujiang Gateway: one image for every Python process of a deployment
# (`pjgw serve`, `pjgw relay`, `pjgw notary run`, `pjgw db upgrade`, `python -m devnet run`),
# plus an `anvil` target for the development EVM chain. docs/operator-guide.md explains it.
#
#   docker build -t pujiang-gateway .                 # the hub image (target: runtime)
#   docker build -t pujiang-anvil --target anvil .    # anvil 1.7.1 from the npm lockfile
#
# Contracts: the EVM adapter reads the compiled ABIs (build/contracts/*.json) at run
# time to encode calls and decode the Bridge's events, and the artifacts are build
# outputs that are never committed. So a node stage compiles them with the same
# solc-js and lockfile as `make contracts`, and only the JSON artifacts reach the
# runtime image: no node, no solc there.

# ---- contracts: solc-js compiles contracts/*.sol; the lockfile also brings anvil ----
FROM node:22-bookworm-slim AS contracts
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY contracts/ contracts/
RUN node contracts/build.mjs build/contracts

# ---- anvil: the development EVM chain of deploy/compose.yaml (linux/amd64 only) ----
FROM python:3.11-slim AS anvil
COPY --from=contracts /src/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil /usr/local/bin/anvil
RUN groupadd --system --gid 10002 anvil \
    && useradd --system --no-log-init --uid 10002 --gid 10002 --shell /usr/sbin/nologin anvil \
    && mkdir -p /var/lib/anvil && chown 10002:10002 /var/lib/anvil
USER 10002:10002
WORKDIR /var/lib/anvil
VOLUME ["/var/lib/anvil"]
EXPOSE 8545
# python, not curl: the slim image has no curl; eth_chainId answers once anvil listens.
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=5 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:8545', b'{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}', {'Content-Type': 'application/json'}), timeout=2)"]
ENTRYPOINT ["anvil"]
CMD ["--host", "0.0.0.0", "--port", "8545", "--prune-history", "--disable-block-gas-limit", "--state", "/var/lib/anvil/state.json"]

# ---- wheel: the project as a wheel (the same `pip wheel .` works outside Docker) ----
FROM python:3.11-slim AS wheel
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
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# ---- runtime: the hub and its processes ----
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Dependencies in their own layer: it is rebuilt only when pyproject.toml changes.
# The list (and the fast BLS extra) is read from pyproject itself, so it cannot drift.
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
