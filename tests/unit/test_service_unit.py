"""``onestack service install``: the systemd unit, and a plain answer where systemd is absent."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

from onestack import service_unit
from onestack.cli import parser


def unit(**kw: object) -> service_unit.Unit:
    base: dict[str, object] = {
        "name": "onestack.service",
        "data_dir": Path("/var/lib/my cloud"),
        "executable": "/opt/onestack/.venv/bin/onestack",
        "home": "/root",
    }
    return service_unit.Unit(**(base | kw))  # type: ignore[arg-type]


def test_the_unit_runs_up_in_the_foreground_and_never_kills_guests() -> None:
    text = unit(port=8771).text()
    parsed = configparser.ConfigParser(interpolation=None, strict=False)
    parsed.read_string(text)
    svc = parsed["Service"]
    assert svc["ExecStart"] == (
        "/opt/onestack/.venv/bin/onestack up --data-dir '/var/lib/my cloud' --port 8771"
    )
    # Stopping the unit must not reach the guests (QEMU daemons) in its cgroup.
    assert svc["KillMode"] == "process"
    assert svc["KillSignal"] == "SIGINT"
    assert svc["Environment"] == "HOME=/root"
    assert parsed["Install"]["WantedBy"] == "multi-user.target"


def test_without_systemd_nothing_is_written_and_it_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(service_unit, "SYSTEMD_RUNNING", tmp_path / "no-systemd")
    monkeypatch.setattr(service_unit, "systemd_running", lambda: False)
    assert service_unit.install(unit(), now=True, unit_dir=tmp_path) == 1
    assert list(tmp_path.iterdir()) == []
    assert "systemd is not running on this machine" in capsys.readouterr().err


def test_with_systemd_the_unit_is_written_and_enabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(service_unit, "systemd_running", lambda: True)
    monkeypatch.setattr(service_unit, "systemctl", lambda *a: calls.append(a))
    assert service_unit.install(unit(), now=True, unit_dir=tmp_path) == 0
    written = tmp_path / "onestack.service"
    assert written.read_text() == unit().text()
    assert written.stat().st_mode & 0o777 == 0o644
    assert calls == [("daemon-reload",), ("enable", "--now", "onestack.service")]
    assert service_unit.uninstall("onestack.service", unit_dir=tmp_path) == 0
    assert not written.exists()


def test_systemd_running_needs_its_runtime_directory(tmp_path: Path) -> None:
    assert not service_unit.systemd_running(tmp_path / "absent")


def test_cli_parses_service_install() -> None:
    args = parser().parse_args(["service", "install", "--now", "--port", "8771"])
    assert args.func.__name__ == "cmd_service" and args.now and args.port == 8771
