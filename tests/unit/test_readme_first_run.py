"""The README's lines, as a newcomer copies them in order on a fresh Debian 12 machine (issue #10).

Each shell line of the README must run: a `make` target that exists; a program that `make up`
leaves in `.venv/bin` called by that path or after `. .venv/bin/activate`; or a host program
that is essential on Debian or listed in `scripts/debian-packages.txt` (which `make up`
installs). The regression: `make up` installed only the package and the README then called a
bare `openstack`, which answered `command not found`.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Programs of Debian's essential packages and shell builtins: on every Debian 12 machine.
ESSENTIAL = {
    ".", "source", "cd", "export", "echo", "cat", "chmod", "mkdir", "rm", "cp", "mv", "ls",
    "sleep", "test", "true", "grep", "sed", "tail", "head", "env", "kill", "id", "unset",
}  # fmt: skip
# Shell keywords: the word after one (`until CMD; do CMD; done`) is the program.
KEYWORDS = {"until", "while", "do", "done", "if", "then", "else", "fi", "!"}
# A host program the README may call -> the Debian package that carries it.
HOST_PROGRAMS = {
    "apt-get": "apt",
    "git": "git",
    "ssh": "openssh-client",
    "systemctl": "systemd",
    "curl": "curl",
    "qemu-img": "qemu-utils",
}
# Packages already on the machine before `make up` (the README's own first line installs git).
PRESENT_BEFORE = {"apt", "git", "systemd"}


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def commands(block: str) -> list[list[str]]:
    """Each command of a block as words: continuations joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", block)
    out = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        # `a && b`, `a; b`: each part is a command; redirections are not programs.
        current: list[str] = []
        for word in words:
            if word in ("&&", "||", ";", "|"):
                if current:
                    out.append(current)
                current = []
            elif not current and word.rstrip(";") in KEYWORDS:
                continue
            elif not word.startswith(">") and not (current and current[-1] in (">", ">>")):
                current.append(word)
        if current:
            out.append([w for w in current if w not in (">", ">>")])
    return out


def make_targets() -> set[str]:
    text = (REPO / "Makefile").read_text()
    return {m.group(1) for m in re.finditer(r"^([a-z][\w-]*):", text, re.MULTILINE)}


def make_up_extras() -> list[str]:
    """The extras `make up` installs: the bootstrap line of the .venv stamp's recipe."""
    text = (REPO / "Makefile").read_text()
    recipe = re.search(r"^\$\(STAMP\):.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert recipe, "the Makefile has no $(STAMP) recipe"
    boot = re.search(r"scripts/bootstrap\.sh \$\(VENV\)(?: (\S+))?", recipe.group(1))
    assert boot, "make up does not run scripts/bootstrap.sh"
    return boot.group(1).split(",") if boot.group(1) else []


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0]


def venv_programs() -> set[str]:
    """Console scripts `make up` leaves in .venv/bin: ours and those of the packages it
    installs (the dependencies and the extras it names), and the venv's own interpreter."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    programs = {"python", *project.get("scripts", {})}
    extras = project.get("optional-dependencies", {})
    specs = list(project.get("dependencies", []))
    for extra in make_up_extras():
        specs += extras[extra]
    for spec in specs:
        dist = metadata.distribution(requirement_name(spec))
        programs |= {ep.name for ep in dist.entry_points if ep.group == "console_scripts"}
    return programs


def debian_packages() -> set[str]:
    lines = (REPO / "scripts" / "debian-packages.txt").read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def check_line(words: list[str], state: dict[str, bool]) -> str | None:
    """Why this command would fail for the newcomer, or None."""
    program = words[0]
    captured = re.match(r"^\w+=\$\((.+)", program)
    if captured:  # VAR=$(program ...): the program inside
        inner = [captured.group(1), *words[1:]]
        inner[-1] = inner[-1].removesuffix(")")
        return check_line(inner, state)
    if "=" in program and not program.startswith("."):  # VAR=value program ...
        return check_line(words[1:], state) if len(words) > 1 else None
    if program in (".", "source") and words[1:] == [".venv/bin/activate"]:
        state["activated"] = True
        return None
    if program == "make":
        missing = [t for t in words[1:] if "=" not in t and t not in make_targets()]
        return f"make has no target {missing}" if missing else None
    if program.startswith(".venv/bin/"):
        name = program.removeprefix(".venv/bin/")
        return None if name in venv_programs() else f"make up leaves no {program}"
    if program in venv_programs():
        return None if state["activated"] else f"{program}: command not found (venv not active)"
    if program in ESSENTIAL:
        return None
    package = HOST_PROGRAMS.get(program)
    if package is None:
        return f"{program}: nothing installs it"
    if package not in PRESENT_BEFORE | debian_packages():
        return f"{program}: its package {package} is not in scripts/debian-packages.txt"
    return None


def test_make_up_installs_the_openstack_client() -> None:
    assert "openstack" in venv_programs()


def test_every_readme_shell_line_runs_for_a_newcomer() -> None:
    blocks = shell_blocks((REPO / "README.md").read_text())
    assert blocks, "the README has no sh blocks"
    state = {"activated": False}
    problems = []
    for block in blocks:
        for words in commands(block):
            problem = check_line(words, state)
            if problem:
                problems.append(f"{' '.join(words)}\n    -> {problem}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("openstack --os-cloud onestack token issue", "command not found"),
        ("make upp", "no target"),
        (".venv/bin/nova list", "leaves no"),
        ("frobnicate now", "nothing installs it"),
        ("X=$(nova list -f value)", "nothing installs it"),
    ],
)
def test_the_checker_catches_what_breaks_a_newcomer(line: str, why: str) -> None:
    (words,) = commands(line)
    problem = check_line(words, {"activated": False})
    assert problem is not None and why in problem
