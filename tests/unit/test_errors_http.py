"""Error classes and the three OpenStack error bodies; request validation helpers."""

from __future__ import annotations

import asyncio
import dataclasses
from types import SimpleNamespace
from typing import Any

import orjson
import pydantic
import pytest
from starlette.requests import Request

from onestack.common import errors
from onestack.common.errors import keystone_body, neutron_body, nova_body
from onestack.common.http import READING, json_response, query_bool, read_json, validate


# --- errors --------------------------------------------------------------------------------
class TestErrorClasses:
    @pytest.mark.parametrize(
        ("cls", "code", "title"),
        [
            (errors.BadRequest, 400, "Bad Request"),
            (errors.ValidationError, 400, "Bad Request"),
            (errors.Unauthorized, 401, "Unauthorized"),
            (errors.Forbidden, 403, "Forbidden"),
            (errors.NotFound, 404, "Not Found"),
            (errors.MethodNotAllowed, 405, "Method Not Allowed"),
            (errors.NotAcceptable, 406, "Not Acceptable"),
            (errors.Conflict, 409, "Conflict"),
            (errors.PayloadTooLarge, 413, "Request Entity Too Large"),
            (errors.UnsupportedMediaType, 415, "Unsupported Media Type"),
            (errors.InternalError, 500, "Internal Server Error"),
            (errors.ServiceUnavailable, 503, "Service Unavailable"),
        ],
    )
    def test_codes_and_titles(self, cls: type[errors.OneStackError], code: int, title: str) -> None:
        assert cls.code == code
        assert cls.title == title
        assert issubclass(cls, errors.OneStackError)

    def test_template_filled_from_keywords(self) -> None:
        err = errors.NotFound(kind="project", id="p1")
        assert err.message == "Could not find project: p1."
        assert str(err) == err.message

    def test_explicit_message_wins(self) -> None:
        err = errors.NotFound("No such thing.")
        assert err.message == "No such thing."

    def test_default_message(self) -> None:
        assert errors.BadRequest().message == "The request you have made is invalid."
        assert errors.Unauthorized().message.startswith("The request you have made requires")

    def test_forbidden_names_the_action(self) -> None:
        err = errors.Forbidden(action="identity:create_user")
        assert err.message == (
            "You are not authorized to perform the requested action: identity:create_user."
        )

    def test_missing_template_keyword_is_a_bug(self) -> None:
        with pytest.raises(KeyError):
            errors.NotFound(kind="project")

    def test_headers_are_per_instance(self) -> None:
        a, b = errors.Unauthorized(), errors.Unauthorized()
        a.headers["WWW-Authenticate"] = "Keystone uri=..."
        assert b.headers == {}

    def test_name(self) -> None:
        assert errors.NotFound(kind="x", id="y").name == "NotFound"
        assert errors.ValidationError(field="f", reason="r").name == "ValidationError"


class TestBodies:
    def test_keystone(self) -> None:
        err = errors.NotFound(kind="user", id="u1")
        assert keystone_body(err) == {
            "error": {"code": 404, "message": "Could not find user: u1.", "title": "Not Found"}
        }

    def test_keystone_unauthorized(self) -> None:
        body = keystone_body(errors.Unauthorized())
        assert body["error"]["code"] == 401
        assert body["error"]["title"] == "Unauthorized"

    @pytest.mark.parametrize(
        ("err", "key"),
        [
            (errors.BadRequest(), "badRequest"),
            (errors.ValidationError(field="name", reason="too long"), "badRequest"),
            (errors.Unauthorized(), "unauthorized"),
            (errors.Forbidden(action="a"), "forbidden"),
            (errors.NotFound(kind="server", id="s1"), "itemNotFound"),
            (errors.MethodNotAllowed(), "HTTPMethodNotAllowed"),
            (errors.NotAcceptable(reason="no"), "HTTPNotAcceptable"),
            (errors.Conflict(kind="server", reason="busy"), "conflictingRequest"),
            (errors.PayloadTooLarge(), "overLimit"),
            (errors.UnsupportedMediaType(media_type="text/plain"), "HTTPUnsupportedMediaType"),
            (errors.ServiceUnavailable(reason="bus down"), "serviceUnavailable"),
            (errors.InternalError(), "computeFault"),
            (errors.OneStackError(), "computeFault"),
        ],
    )
    def test_nova(self, err: errors.OneStackError, key: str) -> None:
        assert nova_body(err) == {key: {"code": err.code, "message": err.message}}

    def test_nova_not_found(self) -> None:
        assert nova_body(errors.NotFound(kind="server", id="s1")) == {
            "itemNotFound": {"code": 404, "message": "Could not find server: s1."}
        }

    def test_neutron(self) -> None:
        err = errors.Conflict(kind="port", reason="IP in use")
        assert neutron_body(err) == {
            "NeutronError": {
                "type": "Conflict",
                "message": "Conflict occurred attempting to store port - IP in use.",
                "detail": "",
            }
        }

    def test_neutron_type_is_the_subclass_name(self) -> None:
        class NetworkNotFound(errors.NotFound):
            pass

        body = neutron_body(NetworkNotFound(kind="network", id="n1"))
        assert body["NeutronError"]["type"] == "NetworkNotFound"

    @pytest.mark.parametrize("formatter", [keystone_body, nova_body, neutron_body])
    def test_bodies_are_json(self, formatter: errors.ErrorFormatter) -> None:
        body = formatter(errors.NotFound(kind="thing", id="ü-1"))
        assert orjson.loads(orjson.dumps(body)) == body


# --- validate ------------------------------------------------------------------------------
class Inner(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    port: int


class Body(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    name: str
    enabled: bool = True
    inner: Inner | None = None
    tags: list[str] = []


class TestValidate:
    def test_valid(self) -> None:
        body = validate(Body, {"name": "a", "inner": {"port": 5}})
        assert body == Body(name="a", inner=Inner(port=5))

    def test_missing_field(self) -> None:
        with pytest.raises(errors.ValidationError) as info:
            validate(Body, {})
        assert info.value.code == 400
        assert info.value.message == "Invalid input for field 'name': this field is required"

    def test_extra_field(self) -> None:
        with pytest.raises(errors.ValidationError) as info:
            validate(Body, {"name": "a", "colour": "red"})
        assert info.value.message == (
            "Invalid input for field 'colour': Additional properties are not allowed"
        )

    def test_wrong_type_names_field_and_reason(self) -> None:
        with pytest.raises(errors.ValidationError) as info:
            validate(Body, {"name": 5})
        assert "'name'" in info.value.message
        assert "string" in info.value.message.lower()

    def test_nested_field_path(self) -> None:
        with pytest.raises(errors.ValidationError) as info:
            validate(Body, {"name": "a", "inner": {"port": "not-a-port"}})
        assert "'inner.port'" in info.value.message

    def test_list_index_in_path(self) -> None:
        with pytest.raises(errors.ValidationError) as info:
            validate(Body, {"name": "a", "tags": ["ok", 3]})
        assert "'tags.1'" in info.value.message

    def test_not_an_object(self) -> None:
        for data in (None, [], "name", 3):
            with pytest.raises(errors.ValidationError) as info:
                validate(Body, data)
            assert "'body'" in info.value.message

    def test_only_one_error_reported_and_no_pydantic_chain(self) -> None:
        with pytest.raises(errors.ValidationError) as info:
            validate(Body, {"enabled": "perhaps", "colour": 1})
        assert isinstance(info.value, errors.BadRequest)
        assert info.value.__cause__ is None
        assert info.value.__suppress_context__
        assert "pydantic" not in info.value.message.lower()


# --- query_bool ----------------------------------------------------------------------------
class TestQueryBool:
    def test_absent(self) -> None:
        assert query_bool(None) is None

    @pytest.mark.parametrize(
        "text", ["", "1", "true", "True", "TRUE", "yes", "on", "t", "y", " true "]
    )
    def test_true(self, text: str) -> None:
        assert query_bool(text) is True

    @pytest.mark.parametrize("text", ["0", "false", "False", "no", "off", "f", "n", " NO "])
    def test_false(self, text: str) -> None:
        assert query_bool(text) is False

    @pytest.mark.parametrize("text", ["maybe", "2", "truthy", "-1", "nope"])
    def test_invalid(self, text: str) -> None:
        with pytest.raises(errors.BadRequest, match="Invalid boolean value"):
            query_bool(text)


def test_json_response() -> None:
    resp = json_response({"a": [1, "é"]}, 201, {"X-Test": "1"})
    assert resp.status_code == 201
    assert resp.media_type == "application/json"
    assert resp.headers["x-test"] == "1"
    assert orjson.loads(resp.body) == {"a": [1, "é"]}


def test_documents_too_deep_or_with_numbers_out_of_range_are_400() -> None:
    from onestack.common import errors as errs
    from onestack.common.http import check_document

    check_document({"a": [1, 2.5, -(2**63), 2**63 - 1, {"b": "x" * 10}]})
    nested: object = 1
    for _ in range(70):
        nested = {"a": nested}
    for bad in (nested, {"quota": {"port": 2**63}}, [1e20], {"x": -(2**63) - 1}):
        with pytest.raises(errs.BadRequest):
            check_document(bad)
    check_document({"value": 1e300}, bounded=False)


# A guest's signal: any Content-Type, blanks as no body (orchestration's resource signal).
ANY_BLANK = dataclasses.replace(READING, blank_is_empty=True, any_type=True)


def _request(body: bytes, ctype: str | None) -> Any:
    headers = [(b"content-type", ctype.encode())] if ctype else []
    app = SimpleNamespace(state=SimpleNamespace())
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers, "app": app}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


@pytest.mark.parametrize(
    ("body", "ctype", "kw", "expected"),
    [
        (b"", "application/json", {"optional": True}, None),  # an optional body, not sent
        (b"  \n", "text/plain", {"optional": True, "reading": ANY_BLANK}, None),
        (b'{"a": 1}', "application/x-www-form-urlencoded", {"reading": ANY_BLANK}, {"a": 1}),
        (b"[1]", None, {}, [1]),
    ],
)
def test_read_json_optional_blank_and_any_type(
    body: bytes, ctype: str | None, kw: dict[str, Any], expected: Any
) -> None:
    assert asyncio.run(read_json(_request(body, ctype), **kw)) == expected


@pytest.mark.parametrize(
    ("body", "ctype", "kw", "error"),
    [
        (b"", "application/json", {}, errors.BadRequest),  # a body is required by default
        (b'{"a": 1}', "text/plain", {"optional": True}, errors.UnsupportedMediaType),
        (b"{not json", "text/plain", {"reading": ANY_BLANK}, errors.BadRequest),
    ],
)
def test_read_json_refusals(
    body: bytes, ctype: str, kw: dict[str, Any], error: type[errors.OneStackError]
) -> None:
    with pytest.raises(error):
        asyncio.run(read_json(_request(body, ctype), **kw))
