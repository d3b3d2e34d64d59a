"""``OS::Nova::Server``'s ``console_urls`` is Heat's lazy mapping: a get_attr with a key
(``[vm, console_urls, novnc]``) opens that console only, the whole attribute each console
type Heat knows; a key Heat does not know is novaclient's ``Unsupported console_type``."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from onestack.common.context import RequestContext
from onestack.compute.facade import ComputeAPI
from onestack.compute.service.consoles import ConsoleTypeUnavailable
from onestack.orchestration.resources.base import Asked, Context
from onestack.orchestration.resources.nova import CONSOLE_TYPES, Server
from onestack.orchestration.template import functions


class Compute:
    """The compute facade's console_url, each call recorded (each would make a token)."""

    def __init__(self) -> None:
        self.opened: list[str] = []

    async def console_url(self, ctx: RequestContext, server_id: str, kind: str) -> str:
        self.opened.append(kind)
        if kind not in ("novnc", "serial"):
            raise ConsoleTypeUnavailable(type=kind)
        return f"url-{kind}-{len(self.opened)}"


def live(asked: set[Asked]) -> tuple[dict[str, Any], list[str]]:
    compute = Compute()
    runtime: Any = SimpleNamespace(service=lambda cls: compute if cls is ComputeAPI else None)
    ctx = RequestContext(request_id="req-1", user_id="u", project_id="p", roles=("member",))
    c = Context(runtime, ctx, "stack-id", "stack", "vm")
    return asyncio.run(Server().live(c, "server-id", asked)), compute.opened


def asked_by(*snippets: Any) -> set[Asked]:
    fns = functions.version_functions("2018-08-31")
    refs = [r for s in snippets for r in functions.references(s, fns, "outputs")]
    return {(r.attr, r.key) for r in refs if r.kind == "attr"}


def test_a_key_opens_only_that_console() -> None:
    asked = asked_by({"get_attr": ["vm", "console_urls", "novnc"]})
    assert asked == {("console_urls", "novnc")}
    got, opened = live(asked)
    assert opened == ["novnc"] and got == {"console_urls": {"novnc": "url-novnc-1"}}
    got, opened = live(asked_by({"get_attr": ["vm", "console_urls", "xvpvnc"]},
                                {"get_attr": ["vm", "console_urls", "nosuch"]}))  # fmt: skip
    assert opened == ["xvpvnc"]
    urls = got["console_urls"]
    assert urls == {"xvpvnc": "Cannot get console url: Unavailable console type xvpvnc. (HTTP 400)"}
    assert urls.get("nosuch") == 'Unsupported console_type "nosuch"'


def test_the_whole_attribute_opens_every_type_and_others_none() -> None:
    for snippet in ({"get_attr": ["vm", "console_urls"]}, {"get_attr": ["vm"]}):
        got, opened = live(asked_by(snippet, {"get_attr": ["vm", "console_urls", "novnc"]}))
        assert opened == list(CONSOLE_TYPES) and list(got["console_urls"]) == opened
        assert got["console_urls"].get("rdp") == 'Unsupported console_type "rdp"'
    # A key computed at evaluation time is not known up front: the whole attribute.
    computed = {"get_attr": ["vm", "console_urls", {"get_param": "kind"}]}
    assert live(asked_by(computed))[1] == list(CONSOLE_TYPES)
    computed = {"get_attr": ["vm", {"get_param": "attr"}, "novnc"]}
    assert live(asked_by(computed))[1] == list(CONSOLE_TYPES)
    got, opened = live(asked_by({"get_attr": ["vm", "first_address"]}))
    assert got == {} and opened == []
