"""What a server's start may not import before it answers (#19): each of these is tens to
hundreds of milliseconds of every restart, and only some requests or agents use them."""

from __future__ import annotations

import json
import subprocess
import sys

LAZY = ("pyroute2", "alembic", "httpx", "oauthlib", "rich", "pygments", "mako")


def test_the_api_path_imports_none_of_the_heavy_optional_packages() -> None:
    code = (
        "import json, sys\n"
        "import onestack.cli, onestack.server, onestack.app\n"
        f"print(json.dumps(sorted(m for m in {LAZY!r} if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
