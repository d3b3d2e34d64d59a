#!/usr/bin/env bash
# openstacksdk's own functional tests (they ship in the openstacksdk package) against a fresh
# OneStack cloud with the fake drivers, as `make sdk-functional` runs them.
#   SDK_TESTS  the test packages (default: identity; e.g. "identity image network compute")
#   SDK_SKIP   a unittest -k pattern: only the tests matching it run
# The clouds the suite expects are written beside the cloud: devstack (a member of demo),
# devstack-alt (a member of a second project), devstack-admin and devstack-system-admin.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bin=${VENV:-.venv}/bin
[[ $bin == /* ]] || bin=$repo/$bin
logs=${1:-.test-results/sdk-functional}
mkdir -p "$(dirname "$logs")"
work=$(mktemp -d)
port=$("$bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/home"
export ONESTACK_NETWORK_DRIVER=fake ONESTACK_COMPUTE_DRIVER=fake ONESTACK_IDENTITY_PASSWORD_HASH_ROUNDS=4
HOME="$work/home" "$bin/onestack" up --data-dir "$work/data" --port "$port" >"$work/cloud.log" 2>&1 &
cloud=$!
cleanup() {
  kill -INT "$cloud" 2>/dev/null; wait "$cloud" 2>/dev/null
  cp "$work/cloud.log" "$logs-cloud.log" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 600); do grep -q "OneStack is up" "$work/cloud.log" && break; sleep 0.1; done
grep -q "OneStack is up" "$work/cloud.log" || { cat "$work/cloud.log"; exit 1; }

# The suite picks a cirros-named qcow2 image (an empty disk: the fake driver never reads it).
qemu-img create -q -f qcow2 "$work/tiny.qcow2" 16M || { echo "sdk-functional: qemu-img failed"; exit 1; }
OS_CLIENT_CONFIG_FILE="$work/data/clouds.yaml" TINY="$work/tiny.qcow2" \
  "$bin/python" - "$work/clouds.yaml" <<'PY' || exit 1
import os
import secrets
import sys

import openstack
import yaml

clouds = yaml.safe_load(open(os.environ["OS_CLIENT_CONFIG_FILE"]))["clouds"]
admin, demo = clouds["onestack"], clouds["onestack-demo"]
conn = openstack.connect(cloud="onestack")
# A second member in a project of its own (devstack's alt_demo).
project = conn.identity.create_project(name="alt_demo", domain_id="default")
password = secrets.token_urlsafe(18)
user = conn.identity.create_user(
    name="alt_demo", password=password, domain_id="default", default_project_id=project.id
)
conn.identity.assign_project_role_to_user(project, user, conn.identity.find_role("member"))
conn.image.create_image(
    name="cirros-onestack", filename=os.environ["TINY"], disk_format="qcow2",
    container_format="bare", visibility="public", wait=True,
)
# devstack's shared default subnet pool (where auto-allocated-topology is listed): the
# auto-allocated topology test asks for a dry run that needs one.
conn.network.create_subnet_pool(
    name="shared-default-subnetpool-v4", prefixes=["10.0.0.0/22"], default_prefixlen=26,
    shared=True, is_default=True,
)
alt_auth = {**demo["auth"], "username": "alt_demo", "password": password,
            "project_name": "alt_demo"}
system_auth = {k: v for k, v in admin["auth"].items()
               if k not in ("project_name", "project_domain_name")}
out = {
    "devstack": demo,
    "devstack-alt": {**demo, "auth": alt_auth},
    "devstack-admin": admin,
    "devstack-system-admin": {**admin, "auth": {**system_auth, "system_scope": "all"}},
}
with open(sys.argv[1], "w") as f:
    yaml.safe_dump({"clouds": out}, f)
PY

# openstacksdk's own functional job gives each test 600 s (its tox.ini); without it the suite's
# unit-test default (5 s, scaled) stops any test that waits on a server or a volume.
export OS_TEST_TIMEOUT=${OS_TEST_TIMEOUT:-600}
tests=()
for t in ${SDK_TESTS:-identity}; do tests+=("openstack.tests.functional.$t"); done
# The suite is testtools' (oslotest): run by unittest's discovery, one package at a time.
# Left out by id, each with its reason (none now): add ids to left_out with a comment.
left_out=()
rc=0
for t in "${tests[@]}"; do
  dir=$("$bin/python" -c 'import importlib, os, sys; print(os.path.dirname(importlib.import_module(sys.argv[1]).__file__))' "$t")
  top=$("$bin/python" -c 'import openstack, os; print(os.path.dirname(os.path.dirname(openstack.__file__)))')
  # The image tests upload the file CONTRIBUTING.rst of the current directory (the SDK's tree).
  (cd "$work" && printf 'openstacksdk functional test upload\n' >CONTRIBUTING.rst &&
   OS_CLIENT_CONFIG_FILE="$work/clouds.yaml" OS_CLOUD=devstack-admin \
     "$bin/python" - "$dir" "$top" "${SDK_SKIP:-}" "${left_out[@]}" <<'PY') || rc=1
# unittest's discovery, with -k's matching (SDK_SKIP), less the tests left out by id.
import fnmatch
import sys
import unittest

start, top, pattern, *left_out = sys.argv[1:]
if pattern and "*" not in pattern:
    pattern = f"*{pattern}*"


def flat(suite):
    for test in suite:
        yield from flat(test) if isinstance(test, unittest.TestSuite) else (test,)


found = unittest.defaultTestLoader.discover(start, top_level_dir=top)
kept = [t for t in flat(found) if t.id() not in left_out
        and (not pattern or fnmatch.fnmatchcase(t.id(), pattern))]
result = unittest.TextTestRunner().run(unittest.TestSuite(kept))
# Each skip named with its reason (the suite skips what the cloud does not announce).
for test, reason in sorted(result.skipped, key=lambda s: s[0].id()):
    print(f"skipped: {test.id()}: {reason}")
sys.exit(0 if result.wasSuccessful() else 1)
PY
done
exit $rc
