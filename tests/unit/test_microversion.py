"""Microversion negotiation: OpenStack-API-Version, legacy headers, latest, 406 and 400."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from onestack.common import errors
from onestack.common.microversion import APIVersion, VersionRange

NOVA = VersionRange("compute", APIVersion(2, 1), APIVersion(2, 90), "X-OpenStack-Nova-API-Version")
CINDER = VersionRange("volume", APIVersion(3, 0), APIVersion(3, 70))


def headers(*pairs: tuple[str, str]) -> Headers:
    return Headers(raw=[(k.lower().encode(), v.encode()) for k, v in pairs])


class TestAPIVersion:
    @pytest.mark.parametrize(
        ("text", "major", "minor"),
        [("2.1", 2, 1), ("2.90", 2, 90), ("3.0", 3, 0), (" 2.10 ", 2, 10), ("10.100", 10, 100)],
    )
    def test_parse(self, text: str, major: int, minor: int) -> None:
        assert APIVersion.parse(text) == APIVersion(major, minor)

    @pytest.mark.parametrize(
        "text",
        ["", "2", "2.", ".1", "2.x", "two.one", "2.01", "02.1", "0.1", "2.1.1", "-2.1", "v2.1"],
    )
    def test_parse_malformed(self, text: str) -> None:
        with pytest.raises(errors.BadRequest) as info:
            APIVersion.parse(text)
        assert info.value.code == 400

    def test_ordering_is_numeric(self) -> None:
        assert APIVersion(2, 9) < APIVersion(2, 10)
        assert APIVersion(2, 10) > APIVersion(2, 9)
        assert APIVersion(3, 0) > APIVersion(2, 90)
        assert APIVersion(2, 5) <= APIVersion(2, 5)
        assert sorted([APIVersion(2, 10), APIVersion(2, 2), APIVersion(1, 99)]) == [
            APIVersion(1, 99),
            APIVersion(2, 2),
            APIVersion(2, 10),
        ]

    def test_str(self) -> None:
        assert str(APIVersion(2, 10)) == "2.10"


class TestNegotiate:
    def test_no_header_is_the_minimum(self) -> None:
        assert NOVA.negotiate(headers()) == APIVersion(2, 1)
        assert CINDER.negotiate(headers()) == APIVersion(3, 0)

    def test_openstack_api_version_header(self) -> None:
        assert NOVA.negotiate(headers(("OpenStack-API-Version", "compute 2.10"))) == APIVersion(
            2, 10
        )

    def test_service_name_is_case_insensitive(self) -> None:
        got = NOVA.negotiate(headers(("OpenStack-API-Version", "Compute 2.5")))
        assert got == APIVersion(2, 5)

    def test_header_for_another_service_is_ignored(self) -> None:
        assert NOVA.negotiate(headers(("OpenStack-API-Version", "volume 3.5"))) == APIVersion(2, 1)

    def test_several_services_in_one_header(self) -> None:
        h = headers(("OpenStack-API-Version", "volume 3.5, compute 2.20"))
        assert NOVA.negotiate(h) == APIVersion(2, 20)
        assert CINDER.negotiate(h) == APIVersion(3, 5)

    def test_several_header_lines(self) -> None:
        h = headers(
            ("OpenStack-API-Version", "volume 3.5"), ("OpenStack-API-Version", "compute 2.30")
        )
        assert NOVA.negotiate(h) == APIVersion(2, 30)
        assert CINDER.negotiate(h) == APIVersion(3, 5)

    def test_legacy_header(self) -> None:
        h = headers(("X-OpenStack-Nova-API-Version", "2.15"))
        assert NOVA.negotiate(h) == APIVersion(2, 15)

    def test_legacy_header_unknown_to_a_service_without_one(self) -> None:
        h = headers(("X-OpenStack-Nova-API-Version", "3.5"))
        assert CINDER.negotiate(h) == APIVersion(3, 0)

    def test_new_header_wins_over_legacy(self) -> None:
        h = headers(
            ("X-OpenStack-Nova-API-Version", "2.15"), ("OpenStack-API-Version", "compute 2.40")
        )
        assert NOVA.negotiate(h) == APIVersion(2, 40)

    @pytest.mark.parametrize(
        "pair",
        [
            ("OpenStack-API-Version", "compute latest"),
            ("OpenStack-API-Version", "compute LATEST"),
            ("X-OpenStack-Nova-API-Version", "latest"),
            ("X-OpenStack-Nova-API-Version", " Latest "),
        ],
    )
    def test_latest_is_the_maximum(self, pair: tuple[str, str]) -> None:
        assert NOVA.negotiate(headers(pair)) == APIVersion(2, 90)

    @pytest.mark.parametrize("version", ["2.1", "2.90"])
    def test_bounds_are_inclusive(self, version: str) -> None:
        h = headers(("OpenStack-API-Version", f"compute {version}"))
        assert NOVA.negotiate(h) == APIVersion.parse(version)

    @pytest.mark.parametrize("version", ["2.0", "2.91", "1.99", "3.0", "21.1"])
    def test_out_of_range_is_406(self, version: str) -> None:
        h = headers(("OpenStack-API-Version", f"compute {version}"))
        with pytest.raises(errors.NotAcceptable) as info:
            NOVA.negotiate(h)
        assert info.value.code == 406
        assert f"Version {version} is not supported by the API" in info.value.message
        assert "Minimum is 2.1 and maximum is 2.90" in info.value.message

    def test_legacy_out_of_range_is_406(self) -> None:
        with pytest.raises(errors.NotAcceptable):
            NOVA.negotiate(headers(("X-OpenStack-Nova-API-Version", "2.99")))

    @pytest.mark.parametrize("value", ["compute 2.x", "compute two", "compute 2.01", "compute 2"])
    def test_malformed_is_400(self, value: str) -> None:
        with pytest.raises(errors.BadRequest) as info:
            NOVA.negotiate(headers(("OpenStack-API-Version", value)))
        assert info.value.code == 400
        assert not isinstance(info.value, errors.NotAcceptable)

    def test_malformed_legacy_is_400(self) -> None:
        with pytest.raises(errors.BadRequest):
            NOVA.negotiate(headers(("X-OpenStack-Nova-API-Version", "abc")))


class TestResponseHeaders:
    def test_with_legacy_header(self) -> None:
        assert NOVA.response_headers(APIVersion(2, 10)) == {
            "OpenStack-API-Version": "compute 2.10",
            "X-OpenStack-Nova-API-Version": "2.10",
            "Vary": "OpenStack-API-Version, X-OpenStack-Nova-API-Version",
        }

    def test_without_legacy_header(self) -> None:
        assert CINDER.response_headers(APIVersion(3, 0)) == {
            "OpenStack-API-Version": "volume 3.0",
            "Vary": "OpenStack-API-Version",
        }

    def test_round_trip(self) -> None:
        version = NOVA.negotiate(headers(("OpenStack-API-Version", "compute latest")))
        sent = NOVA.response_headers(version)
        again = NOVA.negotiate(headers(("OpenStack-API-Version", sent["OpenStack-API-Version"])))
        assert again == version
