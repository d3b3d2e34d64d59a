# The two set-up commands: `make up` runs the cloud, `make test` runs every test layer.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: up test lint bench fuzz clean sdk-functional

up: $(STAMP)
	$(BIN)/onestack up $(ARGS)

test: $(TEST_STAMP)
	VENV=$(VENV) scripts/test.sh

# The route fuzzer for longer than `make test` runs it: ROUNDS rounds over every route, SEED.
fuzz: $(TEST_STAMP)
	FUZZ_ROUNDS=$${ROUNDS:-40} FUZZ_SEED=$${SEED:-$$(date +%s)} $(BIN)/python -m pytest -s -q tests/fuzz

# openstacksdk's own functional tests against a fresh cloud (SDK_TESTS="identity image ...").
sdk-functional: $(TEST_STAMP)
	VENV=$(VENV) scripts/sdk-functional.sh

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench && $(BIN)/ruff format --check src tests bench && $(BIN)/mypy

bench: $(TEST_STAMP)  # the benches drive the cloud with the test clients (aiohttp, openstacksdk)
	$(BIN)/python bench/all.py

# `make up` leaves the clients the README calls (`openstack`) in $(BIN) beside `onestack`.
$(STAMP): pyproject.toml scripts/debian-packages.txt
	scripts/bootstrap.sh $(VENV) client
	touch $@

$(TEST_STAMP): $(STAMP) scripts/debian-packages-test.txt
	scripts/bootstrap.sh $(VENV) client,test
	touch $@

clean:
	rm -rf $(VENV) .venv-tempest .test-results build *.egg-info .pytest_cache .mypy_cache .ruff_cache
