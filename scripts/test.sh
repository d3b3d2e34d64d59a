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
fail() { echo "FAILED: $*"; echo "$*" >>"$results/failed-runs"; status=1; }  # fail WHY
run() {
  "$@"; local rc=$?
  if ((rc != 0)); then echo "FAILED ($rc): $*"; echo "step (exit $rc): $*" >>"$results/failed-runs"; status=1; fi
  return 0
}
run_pytest() {  # run_pytest NAME ARGS...
  local name=$1; shift
  "$bin/python" -m pytest --junitxml="$results/$name.xml" "$@"
  local rc=$?
  if ((rc != 0)); then
    echo "FAILED ($rc): pytest $*"
    # For the summary, also from the layers run in the background (subshells): a run that
    # died before writing its JUnit XML (a crash, a collection error) is named there too.
    echo "$name (pytest exit $rc): pytest $*" >>"$results/failed-runs"
    status=1
  fi
}
has_tests() { compgen -G "$1/test_*.py" >/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
workers=${TEST_WORKERS:-3}  # orchestration tests wait on stacks more than they compute

# What the root/QEMU layers need (root, QEMU, the image build and data-plane tools): each test
# would skip itself without them; under CI (CI=true) a runner that lacks them fails instead.
dataplane_missing() {
  "$bin/python" - <<'PY'
import os
import shutil

from tests.e2e.conftest import CLOUD_IMAGE_TOOLS
from tests.support.guests import TOOLS

missing = [] if os.geteuid() == 0 else ["root"]
missing += [t for t in dict.fromkeys((*CLOUD_IMAGE_TOOLS, *TOOLS)) if shutil.which(t) is None]
print(" ".join(missing))
PY
}
missing=$(dataplane_missing 2>&1)
if [[ -n $missing ]]; then
  if [[ "${CI:-}" == "true" ]]; then
    fail "the e2e layer cannot run here (missing: $missing) and CI must run it"
  else
    echo "note: the e2e layer's tests skip here (missing: $missing)"
  fi
fi

# The guest images the e2e layer boots, built (or found in the cache) in the background from
# the start: debootstrap waits on the mirror and the disk more than on the CPU, and the first
# test that needs an image would otherwise build it on the critical path (minutes on a fresh
# machine). The fixtures take the same file lock, so they wait for this build, not redo it.
prebuild_pid=
if [[ -z $missing ]]; then
  "$bin/python" -c 'from onestack.image.testimage import ensure_image
from onestack.image.cloudimage import ensure_cloud_image
print(ensure_image().summary()); print(ensure_cloud_image().summary())' \
    >"$results/prebuild.log" 2>&1 &
  prebuild_pid=$!
fi

step "lint: ruff and mypy"
run "$bin/ruff" check src tests bench
run "$bin/ruff" format --check src tests bench
run "$bin/mypy"

# The API layer again on PostgreSQL and MariaDB. It runs in the background beside the e2e layer:
# guests under TCG leave a core idle for much of their boots and waits, and these tests need
# no root or QEMU. Its output is printed in one piece when it ends.
db_layers() {
  local db_started=$SECONDS
  for backend in postgresql mariadb; do
    if [[ $backend == postgresql ]]; then
      port=5432 url=${ONESTACK_TEST_POSTGRES_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/postgres}
    else
      port=3306 url=${ONESTACK_TEST_MARIADB_URL:-mysql+aiomysql://root@127.0.0.1:3306/mysql}
    fi
    step "API tests on $backend"
    if port_open "$port"; then
      run_pytest "$backend" -q -n "${TEST_DB_WORKERS:-1}" -m "not cli" tests/api --db-url "$url"
      # A cloud of its own: the fuzz deletes and disables what it finds (flavors, services).
      FUZZ_ROUNDS=${FUZZ_ROUNDS_DB:-2} run_pytest "$backend-fuzz" -q tests/fuzz --db-url "$url"
    elif [[ "${CI:-}" == "true" ]]; then
      fail "$backend is not reachable on 127.0.0.1:$port and CI must test it"
    else
      echo "skipped: $backend is not reachable on 127.0.0.1:$port"
    fi
  done

  echo "database layers: $((SECONDS - db_started)) s"
  return $status
}

if [[ "${TEST_DB_PARALLEL:-1}" == "1" ]]; then
  db_layers >"$results/db-layers.log" 2>&1 &
  db_pid=$!
else
  db_pid=
  db_layers; status=$((status | $?))
fi

for layer in e2e multinode; do
  if has_tests "tests/$layer"; then
    step "$layer tests (root, QEMU, namespaces)"
    started=$SECONDS
    run_pytest "$layer" -q "tests/$layer"
    echo "$layer step: $((SECONDS - started)) s"
  fi
done

if [[ -n $prebuild_pid ]]; then
  wait "$prebuild_pid" || fail "the guest image build (below)"
  cat "$results/prebuild.log"
fi

step "unit, API and browser tests (SQLite)"
started=$SECONDS
run_pytest sqlite -q -n "$workers" tests/unit tests/api tests/browser
echo "unit and API step: $((SECONDS - started)) s"

# The fuzz (fake drivers, a cloud of its own, under a minute of one core) runs in the background
# beside Tempest's scenario tests, whose QEMU guests leave a core idle for much of their waits.
fuzz_layer() {
  local started=$SECONDS
  FUZZ_ROUNDS=${FUZZ_ROUNDS:-4} run_pytest fuzz -q tests/fuzz
  echo "fuzz step: $((SECONDS - started)) s"
  return $status
}
fuzz_layer >"$results/fuzz.log" 2>&1 &
fuzz_pid=$!

# Tempest's API tests (fake drivers: one cloud process, about a core) run in the background
# beside its scenario tests (QEMU guests that leave a core idle for much of their waits).
step "conformance: Tempest's API tests beside its scenario and validation tests (root, QEMU)"
tempest_api_pid=
if [[ "${SKIP_TEMPEST:-}" == "1" ]]; then
  echo "skipped (SKIP_TEMPEST=1)"
else
  run env VENV="${VENV:-.venv}" scripts/tempest.sh --install
  tempest_api() {
    local started=$SECONDS
    env VENV="${VENV:-.venv}" scripts/tempest.sh "$results/tempest.xml"
    local rc=$?
    echo "tempest API step: $((SECONDS - started)) s"
    return $rc
  }
  if [[ "${TEST_TEMPEST_PARALLEL:-1}" == "1" ]]; then
    tempest_api >"$results/tempest-api.log" 2>&1 &
    tempest_api_pid=$!
  else
    run tempest_api
  fi
fi
if [[ "${SKIP_TEMPEST:-}" == "1" || "${SKIP_TEMPEST_SCENARIO:-}" == "1" ]]; then
  echo "scenario skipped (SKIP_TEMPEST=1 or SKIP_TEMPEST_SCENARIO=1)"
elif [[ -n $missing ]]; then
  if [[ "${CI:-}" == "true" ]]; then
    fail "needs root and QEMU (missing: $missing) and CI must run it"
  else
    echo "scenario skipped: needs root (QEMU guests on Linux bridges; missing: $missing)"
  fi
else
  started=$SECONDS
  run env VENV="${VENV:-.venv}" scripts/tempest.sh --scenario "$results/tempest-scenario.xml"
  echo "tempest scenario step: $((SECONDS - started)) s"
fi
if [[ -n $tempest_api_pid ]]; then
  wait "$tempest_api_pid" || fail "scripts/tempest.sh (API tests)"
  step "conformance: upstream Tempest API tests (identity, image, network, compute, object, volume)"
  cat "$results/tempest-api.log"
fi

wait "$fuzz_pid" || status=1
step "fuzz: every route with malformed bodies, queries and ids (seeded, FUZZ_ROUNDS=${FUZZ_ROUNDS:-4})"
cat "$results/fuzz.log"

if [[ -n $db_pid ]]; then
  wait "$db_pid" || status=1
  cat "$results/db-layers.log"
fi

step "summary"
echo "wall clock: $SECONDS s"
"$bin/python" - "$results" <<'PY'
import sys
import xml.etree.ElementTree as ET
from pathlib import Path



def node_id(case: ET.Element) -> str:
    """pytest's id (tests/api/test_x.py::TestY::test_z[p]) from JUnit's dotted classname."""
    parts, name = case.get("classname", "").split("."), case.get("name", "?")
    for i in range(len(parts), 0, -1):
        if Path(*parts[:i]).with_suffix(".py").is_file():
            return "::".join(["/".join(parts[:i]) + ".py", *parts[i:], name])
    return "::".join(p for p in (case.get("classname"), name) if p)


counts = {"passed": 0, "failed": 0, "skipped": 0}
failed: list[str] = []
for path in sorted(Path(sys.argv[1]).glob("*.xml")):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        failed.append(f"{path.stem}: {path} is not readable JUnit XML")
        counts["failed"] += 1
        continue
    for case in root.iter("testcase"):
        bad = [child for child in case if child.tag in ("failure", "error")]
        if bad:
            counts["failed"] += 1
            why = (bad[0].get("message") or bad[0].text or bad[0].tag).strip().splitlines()
            first = why[0][:200] if why else bad[0].tag
            failed.append(f"{path.stem}: {node_id(case)} ({bad[0].tag}): {first}")
        elif case.find("skipped") is not None:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
print(f"total: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
if failed:
    print("failed tests (layer: test):")
    for line in failed:
        print(f"  FAILED {line}")
runs = Path(sys.argv[1]) / "failed-runs"
if runs.exists():
    print("failed runs and steps:")
    for line in runs.read_text().splitlines():
        print(f"  {line}")
PY
exit $status
