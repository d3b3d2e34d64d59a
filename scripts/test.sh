#!/usr/bin/env bash
# Every test layer: lint and types, unit + API (SQLite) in parallel, upstream Tempest against
# a live cloud, the API layer again on PostgreSQL and MariaDB, and the root/QEMU layers once
# they have tests. Ends with one line totalling every run.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${VENV:-.venv}/bin
results=.test-results
rm -rf "$results" && mkdir -p "$results"
status=0
step() { echo; echo "=== $*"; }
run() { "$@"; local rc=$?; if ((rc != 0)); then echo "FAILED ($rc): $*"; status=1; fi; return 0; }
run_pytest() {  # run_pytest NAME ARGS...
  local name=$1; shift
  "$bin/python" -m pytest --junitxml="$results/$name.xml" "$@"
  local rc=$?
  if ((rc != 0)); then echo "FAILED ($rc): pytest $*"; status=1; fi
}
has_tests() { compgen -G "$1/test_*.py" >/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
workers=${TEST_WORKERS:-2}

step "lint: ruff and mypy"
run "$bin/ruff" check src tests bench
run "$bin/ruff" format --check src tests bench
run "$bin/mypy"

for layer in e2e multinode; do
  if has_tests "tests/$layer"; then
    step "$layer tests (root, QEMU, namespaces)"
    run_pytest "$layer" -q "tests/$layer"
  fi
done

step "unit and API tests (SQLite)"
run_pytest sqlite -q -n "$workers" tests/unit tests/api

step "conformance: upstream Tempest identity API tests"
if [[ "${SKIP_TEMPEST:-}" == "1" ]]; then
  echo "skipped (SKIP_TEMPEST=1)"
else
  run env VENV="${VENV:-.venv}" scripts/tempest.sh "$results/tempest.xml"
fi

step "conformance: Tempest scenario and validation tests on the real data plane (root, QEMU)"
if [[ "${SKIP_TEMPEST:-}" == "1" || "${SKIP_TEMPEST_SCENARIO:-}" == "1" ]]; then
  echo "skipped (SKIP_TEMPEST=1 or SKIP_TEMPEST_SCENARIO=1)"
elif [[ $(id -u) -ne 0 ]]; then
  echo "skipped: needs root (QEMU guests on Linux bridges)"
else
  started=$SECONDS
  run env VENV="${VENV:-.venv}" scripts/tempest.sh --scenario "$results/tempest-scenario.xml"
  echo "tempest scenario step: $((SECONDS - started)) s"
fi

for backend in postgresql mariadb; do
  if [[ $backend == postgresql ]]; then
    port=5432 url=${ONESTACK_TEST_POSTGRES_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/postgres}
  else
    port=3306 url=${ONESTACK_TEST_MARIADB_URL:-mysql+aiomysql://root@127.0.0.1:3306/mysql}
  fi
  step "API tests on $backend"
  if port_open "$port"; then
    run_pytest "$backend" -q -n "$workers" -m "not cli" tests/api --db-url "$url"
  elif [[ "${CI:-}" == "true" ]]; then
    echo "FAILED: $backend is not reachable on 127.0.0.1:$port and CI must test it"
    status=1
  else
    echo "skipped: $backend is not reachable on 127.0.0.1:$port"
  fi
done

step "summary"
"$bin/python" - "$results" <<'PY'
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

counts = {"passed": 0, "failed": 0, "skipped": 0}
for path in sorted(Path(sys.argv[1]).glob("*.xml")):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        print(f"summary: {path} is not readable JUnit XML")
        counts["failed"] += 1
        continue
    for case in root.iter("testcase"):
        tags = {child.tag for child in case}
        if tags & {"failure", "error"}:
            counts["failed"] += 1
        elif "skipped" in tags:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
print(f"total: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
PY
exit $status
