#!/usr/bin/env bash
# Install what OneStack needs on this machine: Debian packages (as root) and the virtualenv.
# Usage: scripts/bootstrap.sh [VENV_DIR] [EXTRAS]   e.g. scripts/bootstrap.sh .venv test
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.venv}
extras=${2:-}

missing=()
lists=(scripts/debian-packages.txt)
# What only the tests need (a browser for the dashboard's): not on a machine that only runs.
[[ ",$extras," == *,test,* ]] && lists+=(scripts/debian-packages-test.txt)
if command -v dpkg-query >/dev/null 2>&1; then
  while read -r pkg; do
    [[ -z "$pkg" || "$pkg" == \#* ]] && continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done < <(cat "${lists[@]}")
fi
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: missing Debian packages (install them as root): ${missing[*]}" >&2
  fi
fi

python=${PYTHON:-python3}
if [[ ! -x "$venv/bin/python" ]]; then
  echo "bootstrap: creating the virtualenv $venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
fi
spec="."
[[ -n "$extras" ]] && spec=".[$extras]"
"$venv/bin/python" -m pip install -q -e "$spec"
# The dashboard's browser VNC client (noVNC, from the npm registry, checked against its pinned
# sha512): without it the instance console falls back to the serial console.
"$venv/bin/python" -m onestack.dashboard.assets || echo "bootstrap: the dashboard's noVNC could not be fetched; its console falls back to the serial console" >&2
