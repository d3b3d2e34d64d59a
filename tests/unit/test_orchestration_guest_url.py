"""The URLs a guest calls back (software-config hook, deployment signal and script) are at
``orchestration.guest_url`` when it is set: the public URL (127.0.0.1 by default) may be one
only the host reaches."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from onestack.config import Settings
from onestack.orchestration import software


def runtime(tmp_path: Path, guest_url: str) -> Any:
    settings = Settings(
        data_dir=tmp_path, server={"port": 8770}, orchestration={"guest_url": guest_url}
    )
    return SimpleNamespace(settings=settings, public_url=settings.public_url)


def test_guest_urls_default_to_the_public_url(tmp_path: Path) -> None:
    rt = runtime(tmp_path, "")
    assert software.guest_base_url(rt) == "http://127.0.0.1:8770"
    hook = software.hook_url(rt, "p1", "s1", "server")
    assert hook.startswith("http://127.0.0.1:8770/orchestration/v1/p1/software_deployments/hook/")


def test_guest_urls_follow_guest_url(tmp_path: Path) -> None:
    rt = runtime(tmp_path, "http://10.199.0.1:8770/")
    assert software.guest_base_url(rt) == "http://10.199.0.1:8770"
    for url in (
        software.hook_url(rt, "p1", "s1", "server"),
        software.signal_url(rt, "p1", "d1"),
        software.script_url(rt, "p1", "d1"),
    ):
        assert url.startswith("http://10.199.0.1:8770/orchestration/v1/p1/software_deployments/")
    assert "http://10.199.0.1:8770" in software.hook_script(rt, "p1", "s1", "server")


def test_wait_condition_handle_endpoint_is_the_guests(tmp_path: Path) -> None:
    """A handle's endpoint and curl_cli are for the guest; a scaling policy's URLs (Aodh's,
    inside the cloud) stay at the public URL."""
    import asyncio

    from onestack.orchestration.resources.waits import WaitConditionHandle, signal_url

    rt = runtime(tmp_path, "http://10.199.0.1:8770")
    c: Any = SimpleNamespace(
        runtime=rt, ctx=SimpleNamespace(project_id="p1"), stack_name="st", stack_id="s1",
        resource_name="handle",
    )  # fmt: skip
    made = asyncio.run(WaitConditionHandle().create(c, {}))
    endpoint = "http://10.199.0.1:8770/orchestration/v1/p1/stacks/st/s1/resources/handle/signal"
    assert made.attributes["endpoint"] == endpoint
    assert made.attributes["curl_cli"].endswith(f" {endpoint}")
    assert signal_url(c).startswith("http://127.0.0.1:8770/orchestration/v1/p1/stacks/st/")
