"""The dashboard's one forms module: a posted form read as declared, and an API refusal
placed beside the field it names."""

from __future__ import annotations

import pytest
from starlette.datastructures import FormData

from onestack.dashboard.client import APIError
from onestack.dashboard.forms import Field, Form, FormError, field_of, next_marker

FIELDS = [
    Field("name", "Key Pair Name", required=True, words=("key pair",)),
    Field("public_key", "Public Key", "textarea"),
    Field("admin_state_up", type="checkbox", value="on"),
    Field("groups", "Security Groups", "select", multiple=True),
    Field("password", "Password", "password"),
]


def test_fill_keeps_what_was_typed_as_declared() -> None:
    form = Form(fields=FIELDS)
    assert form.values["admin_state_up"] == "on"  # the declared default before a post
    posted = FormData(
        [("name", "  k1 "), ("groups", "a"), ("groups", "b"), ("password", " secret ")]
    )
    values = form.fill(posted)
    assert values == {
        "name": "k1",
        "public_key": "",
        "admin_state_up": "",  # unchecked: not posted
        "groups": ["a", "b"],
        "password": " secret ",  # as typed (never shown again: the templates leave it out)
    }
    assert form.require() and not form.errors
    assert not Form(fields=FIELDS).require()


def test_a_refusal_goes_beside_the_field_it_names_first() -> None:
    values = {"name": "web", "public_key": ""}
    assert field_of("Key pair 'web' already exists.", FIELDS, values) == "name"
    assert field_of("Invalid public_key: not base64", FIELDS, values) == "public_key"
    assert field_of("Public key is bad; name too", FIELDS, values) == "public_key"
    assert field_of("Quota exceeded.", FIELDS, values) == ""
    # A name inside another word (hyphenated or joined) is not the field's.
    assert field_of("The user-name header and hostnames are bad", FIELDS, values) == ""


def test_refused_places_the_message_or_keeps_the_not_found_page() -> None:
    form = Form(fields=FIELDS)
    form.refused(APIError(409, "Key pair 'x' already exists."))
    assert form.errors == {"name": "Key pair 'x' already exists."}
    form = Form(fields=FIELDS)
    form.refused(APIError(403, "Quota exceeded, too many key pairs."))
    assert form.error == "Quota exceeded, too many key pairs." and not form.errors
    form.refused(FormError("Passwords do not match.", "password"))
    assert form.errors == {"password": "Passwords do not match."}
    with pytest.raises(APIError):
        Form(fields=FIELDS).refused(APIError(404, "Instance abc could not be found."))


def test_next_marker_from_links_or_a_full_page() -> None:
    items = [{"id": "a"}, {"id": "b"}]
    assert next_marker(items, [{"rel": "next", "href": "x"}]) == "b"
    assert next_marker(items, []) == ""
    assert next_marker(items, None) == ""
    assert next_marker(items, None, size=2) == "b"
    assert next_marker([], None, size=2) == ""
