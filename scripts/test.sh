#!/usr/bin/env bash
# Every test layer: lint and types, unit + API (SQLite) in parallel, then the API layer
# against PostgreSQL and MariaDB, then the root/QEMU layers when they have tests.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${VENV:-.venv}/bin
status=0
step() { echo; echo "=== $*"; }
run() { "$@"; local rc=$?; if ((rc != 0)); then echo "FAILED ($rc): $*"; status=1; fi; return 0; }
# pytest exits 5 when a layer has no tests yet: that is not a failure.
run_pytest() { "$bin/python" -m pytest "$@"; local rc=$?; if ((rc != 0 && rc != 5)); then echo "FAILED ($rc): pytest $*"; status=1; fi; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
workers=${TEST_WORKERS:-2}

step "lint: ruff and mypy"
run "$bin/ruff" check src tests bench
run "$bin/ruff" format --check src tests bench
run "$bin/mypy"

step "unit and API tests (SQLite)"
run_pytest -q -n "$workers" tests/unit tests/api

for backend in postgresql mariadb; do
  if [[ $backend == postgresql ]]; then
    port=5432 url=${ONESTACK_TEST_POSTGRES_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/postgres}
  else
    port=3306 url=${ONESTACK_TEST_MARIADB_URL:-mysql+aiomysql://root@127.0.0.1:3306/mysql}
  fi
  step "API tests on $backend"
  if port_open "$port"; then
    run_pytest -q -n "$workers" -m "not cli" tests/api --db-url "$url"
  elif [[ "${CI:-}" == "true" ]]; then
    echo "FAILED: $backend is not reachable on 127.0.0.1:$port and CI must test it"
    status=1
  else
    echo "skipped: $backend is not reachable on 127.0.0.1:$port"
  fi
done

step "end-to-end and multinode layers (root, QEMU, namespaces)"
run_pytest -q tests/e2e tests/multinode

exit $status
