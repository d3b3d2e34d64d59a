"""The skeleton's rules that a reader relies on, checked on the source tree (issue #11)."""

from __future__ import annotations

import ast
from pathlib import Path

import onestack

SRC = Path(onestack.__file__).parent
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def modules() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if "migrations" not in p.parts and "schema" not in p.parts]


def imported(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


# What drivers may take of ``common``: logging, and the plain I/O helpers of large uploads
# (``common/dataio``: no service state, nothing else of onestack; checked below).
DRIVER_SAFE = ("onestack.common.logging", "onestack.common.dataio")


def _driver_safe(name: str) -> bool:
    return any(name == safe or name.startswith(safe + ".") for safe in DRIVER_SAFE)


def test_drivers_import_nothing_of_common_but_logging_and_dataio() -> None:
    offenders = {
        f"{path.relative_to(SRC)}: {name}"
        for path in modules()
        if "drivers" in path.relative_to(SRC).parts
        for name in imported(ast.parse(path.read_text()))
        if name.startswith("onestack.common") and not _driver_safe(name)
    }
    assert offenders == set()


def test_dataio_imports_nothing_of_onestack_outside_it() -> None:
    offenders = {
        f"{path.relative_to(SRC)}: {name}"
        for path in (SRC / "common" / "dataio").rglob("*.py")
        for name in imported(ast.parse(path.read_text()))
        if name.startswith("onestack") and not name.startswith("onestack.common.dataio")
    }
    assert offenders == set()


def test_no_module_or_function_is_too_long() -> None:
    too_long: list[str] = []
    for path in modules():
        text = path.read_text()
        if text.count("\n") > MAX_MODULE_LINES:
            too_long.append(f"{path.relative_to(SRC)}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.relative_to(SRC)}:{node.name}: {length} lines")
    assert too_long == []


def test_services_do_not_share_state_by_string_key() -> None:
    users = [p.relative_to(SRC) for p in modules() if "runtime.state[" in p.read_text()]
    assert users == []


def test_models_are_imported_by_their_name() -> None:
    """`models.Server` says where a table comes from; a one-letter alias hides it (issue #11)."""
    aliased = {
        f"{path.relative_to(SRC)}: {alias.name} as {alias.asname}"
        for path in modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom | ast.Import)
        for alias in node.names
        if alias.name.split(".")[-1] == "models" and alias.asname not in (None, "models")
    }
    assert aliased == set()


def test_every_declared_compute_body_checks_each_member_once() -> None:
    """A ``NovaBody`` member without its one check would skip Nova's wording silently."""
    from onestack.compute.schemas import NovaBody

    def subclasses(cls: type[NovaBody]) -> list[type[NovaBody]]:
        return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]

    bodies = subclasses(NovaBody)
    assert len(bodies) >= 9
    for body in bodies:
        keys = [key for key, _check in body.members()]  # raises TypeError on a bare member
        assert set(body.accepts or keys) <= set(keys), body
