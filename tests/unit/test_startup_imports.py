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


def test_identity_answers_before_the_other_services_are_imported() -> None:
    """``serve`` starts identity alone, then imports the rest while it answers: what it
    needs first may not import another service's package."""
    code = (
        "import json, sys\n"
        "import onestack.cli, onestack.server\n"
        "from onestack import app\n"
        "app.load_services(app.LISTED[:1])\n"
        "others = {e.module for e in app.LISTED[1:]}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.rsplit('.', 1)[0] in others\n"
        "    or m in others)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_each_listed_service_is_what_its_package_declares() -> None:
    """``app.LISTED`` (the catalog before the services import) agrees with every ``SPEC``."""
    from onestack import app

    specs = app.load_services()
    assert [s.name for s in specs] == [e.name for e in app.LISTED]
    for entry, spec in zip(app.LISTED, specs, strict=True):
        assert entry.module == f"onestack.{spec.name}"
        assert (entry.catalog_type, entry.catalog_name) == (spec.catalog_type, spec.catalog_name)
        assert (entry.prefix, entry.endpoint_path) == (spec.prefix, spec.endpoint_path)
        assert tuple(entry.catalog_aliases) == tuple(spec.catalog_aliases)
        assert entry.migrations == spec.migrations
