"""Glance's [import_filtering_opts] as the image settings give them: the defaults allow http
and https on ports 80 and 443 (or no port) to any host; an allow list set makes its deny list
ignored; file: and ftp: never pass."""

from __future__ import annotations

from onestack.common.urlfetch import UriFilter
from onestack.config import ImageSettings, OrchestrationSettings
from onestack.image.service.web import import_filter


def test_defaults_are_glances() -> None:
    f = import_filter(ImageSettings())
    assert f == UriFilter()
    assert f.allows("http://example.com/x.qcow2")
    assert f.allows("https://example.com:443/x.qcow2")
    assert f.allows("http://127.0.0.1/x")
    assert not f.allows("http://127.0.0.1:8080/x.qcow2")
    assert not f.allows("ftp://example.com/x")
    assert not f.allows("file:///etc/passwd")
    assert not f.allows("http://example.com:notaport/x")
    assert not f.allows("")
    assert not f.allows(None)


def test_lists_from_settings() -> None:
    f = import_filter(
        ImageSettings(
            import_allowed_ports="",
            import_disallowed_ports="22, 3306",
            import_disallowed_hosts="169.254.169.254",
            import_allowed_schemes="https",
        )
    )
    assert f.allows("https://127.0.0.1:8770/x")
    assert not f.allows("https://127.0.0.1:22/x")
    assert not f.allows("https://169.254.169.254/latest")
    assert not f.allows("http://example.com/x")
    # An allow list wins over its deny list, as in Glance.
    both = UriFilter(allowed_hosts=("a.example",), disallowed_hosts=("a.example",))
    assert both.allows("http://a.example/x")
    assert not both.allows("http://b.example/x")
    # Whatever the lists say, only http(s) is fetched.
    assert not UriFilter(allowed_schemes=()).allows("file:///etc/passwd")


def test_template_url_filter_has_the_same_defaults() -> None:
    f = UriFilter.of(OrchestrationSettings(), "template_url_")
    assert f == UriFilter()
    assert not f.allows("http://127.0.0.1:8080/t.yaml")
    open_ports = UriFilter.of(OrchestrationSettings(template_url_allowed_ports=""), "template_url_")
    assert open_ports.allows("http://127.0.0.1:8080/t.yaml")
