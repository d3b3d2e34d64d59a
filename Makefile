# The two set-up commands: `make up` runs the cloud, `make test` runs every test layer.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: up test lint bench clean

up: $(STAMP)
	$(BIN)/onestack up $(ARGS)

test: $(TEST_STAMP)
	VENV=$(VENV) scripts/test.sh

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench && $(BIN)/ruff format --check src tests bench && $(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/startup.py && $(BIN)/python bench/identity.py && $(BIN)/python bench/image.py \
	  && $(BIN)/python bench/network.py && $(BIN)/python bench/testimage.py \
	  && $(BIN)/python bench/scheduler.py && $(BIN)/python bench/compute.py \
	  && $(BIN)/python bench/object.py

# `make up` leaves the clients the README calls (`openstack`) in $(BIN) beside `onestack`.
$(STAMP): pyproject.toml scripts/debian-packages.txt
	scripts/bootstrap.sh $(VENV) client
	touch $@

$(TEST_STAMP): $(STAMP)
	scripts/bootstrap.sh $(VENV) client,test
	touch $@

clean:
	rm -rf $(VENV) .venv-tempest .test-results build *.egg-info .pytest_cache .mypy_cache .ruff_cache
