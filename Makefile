# Pujiang Gateway — the two commands a new machine needs are `make run` and `make test`.
# Both install what is missing first (a .venv with the project and its dev extras).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# npm packages (anvil, solc-js) and the compiled contracts, each behind a stamp file.
NODE_STAMP      := node_modules/.installed
CONTRACTS_STAMP := build/contracts/.built

.PHONY: install run test test-fast lint bench clean node_modules contracts docker-build docker-test

install: $(STAMP) $(NODE_STAMP) $(CONTRACTS_STAMP)

$(STAMP): pyproject.toml
	@echo ">> creating $(VENV) and installing pujiang-gateway with its dev extras"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(STAMP)

node_modules: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json
	@echo ">> installing anvil and solc-js from package-lock.json"
	npm ci --no-audit --no-fund
	@touch $(NODE_STAMP)

contracts: $(CONTRACTS_STAMP)

$(CONTRACTS_STAMP): $(NODE_STAMP) contracts/build.mjs $(wildcard contracts/*.sol)
	@echo ">> compiling contracts/*.sol into build/contracts"
	node contracts/build.mjs build/contracts
	@touch $(CONTRACTS_STAMP)

# The embedded default: devnet + anvil (contracts deployed) + hub + three notaries (docs/devstack.md).
run: install
	$(BIN)/pjgw doctor
	$(BIN)/pjgw dev up

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# The full gate (what CI runs): every test, chains, PostgreSQL and the dev stack included.
test: lint
	$(BIN)/pytest

# The fast tier: the same lint, then every test that starts no process (unit, proofs, API,
# store on SQLite); tests marked chain, postgres, stack or slow are left to `make test`.
test-fast: lint
	$(BIN)/pytest -m "not chain and not postgres and not stack and not slow"

# Docker for real (docs/operator-guide.md, "Docker and deploy/compose.yaml"): the images from a
# local Debian bookworm base (debootstrap + docker import, no registry), then the compose stack
# up, a transfer each way, balances checked on both chains, a clean stop, `down --volumes`.
# Needs a running dockerd, docker-compose and debootstrap (.ci/run installs them).
docker-build:
	deploy/docker/build.sh

docker-test:
	deploy/docker/test.sh

# Every benchmark prints its figures; docs/benchmarks.md keeps the latest ones.
bench: install
	$(BIN)/python bench/bls.py
	$(BIN)/python bench/light_client.py
	$(BIN)/python bench/devnet.py
	$(BIN)/python bench/evm.py
	$(BIN)/python bench/hub.py
	$(BIN)/python bench/hub_memory.py
	$(BIN)/python bench/hub_e2e.py
	$(BIN)/python bench/swaps.py
	$(BIN)/python bench/chainmaker_fisco.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info
