"""The oauthlib side of OAuth1: its validator over ``Known`` and the three signed-request
checks. Its own module so oauthlib (~60 ms to import) loads with the first OAuth1 request,
not with every start (#19)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from oauthlib import oauth1

from onestack.identity.oauth_signature import (
    _DUMMY,
    _HEX,
    VERIFIER_CHARS,
    VERIFIER_LENGTH,
    Known,
)


class _Validator(oauth1.RequestValidator):  # type: ignore[misc]
    def __init__(self, known: Known) -> None:
        super().__init__()
        self.known = known
        self.saved: dict[str, Any] = {}

    # Keystone's ids are uuid4 hex; oauthlib's default key length (20-30) would refuse them.
    enforce_ssl = False
    safe_characters = set(_HEX)

    def _hex32(self, value: str) -> bool:
        return len(value) == 32 and set(value) <= _HEX

    def check_client_key(self, client_key: str) -> bool:
        return self._hex32(client_key)

    def check_request_token(self, request_token: str) -> bool:
        return self._hex32(request_token)

    def check_access_token(self, request_token: str) -> bool:
        return self._hex32(request_token)

    def check_nonce(self, nonce: str) -> bool:
        return 0 < len(nonce) <= 64 and nonce.isalnum()

    def check_verifier(self, verifier: str) -> bool:
        return len(verifier) == VERIFIER_LENGTH and all(c in VERIFIER_CHARS for c in verifier)

    @property
    def dummy_client(self) -> str:
        return _DUMMY

    @property
    def dummy_request_token(self) -> str:
        return _DUMMY

    @property
    def dummy_access_token(self) -> str:
        return _DUMMY

    def get_client_secret(self, client_key: str, request: Any) -> str:
        return self.known.consumers.get(client_key, _DUMMY)

    def get_request_token_secret(self, client_key: str, token: str, request: Any) -> str:
        return self.known.request_tokens.get(token, (_DUMMY, "", None))[0]

    def get_access_token_secret(self, client_key: str, token: str, request: Any) -> str:
        return self.known.access_tokens.get(token, (_DUMMY, ""))[0]

    def get_default_realms(self, client_key: str, request: Any) -> list[str]:
        return []

    def get_realms(self, token: str, request: Any) -> list[str]:
        return []

    def get_redirect_uri(self, token: str, request: Any) -> str:
        return "oob"

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return client_key in self.known.consumers

    def validate_request_token(self, client_key: str, token: str, request: Any) -> bool:
        found = self.known.request_tokens.get(token)
        return found is not None and found[1] == client_key

    def validate_access_token(self, client_key: str, token: str, request: Any) -> bool:
        found = self.known.access_tokens.get(token)
        return found is not None and found[1] == client_key

    def validate_verifier(self, client_key: str, token: str, verifier: str, request: Any) -> bool:
        found = self.known.request_tokens.get(token)
        return (
            found is not None
            and found[2] is not None
            and secrets.compare_digest(found[2], verifier)
        )

    def validate_timestamp_and_nonce(self, *_args: Any, **_kwargs: Any) -> bool:
        # oauthlib bounds the timestamp to ten minutes; nonces are not remembered (Keystone
        # neither): the signed request mints at most one token per request or access token.
        return True

    def validate_redirect_uri(self, *_args: Any) -> bool:
        return True

    def validate_requested_realms(self, *_args: Any) -> bool:
        return True

    def validate_realms(self, *_args: Any, **_kwargs: Any) -> bool:
        return True

    def verify_request_token(self, token: str, request: Any) -> bool:
        return isinstance(token, str)

    def verify_realms(self, *_args: Any) -> bool:
        return True

    def invalidate_request_token(self, *_args: Any) -> None:
        pass  # the service deletes the request token when it stores the access token

    def save_request_token(self, token: dict[str, str], request: Any) -> None:
        self.saved = dict(token)

    def save_access_token(self, token: dict[str, str], request: Any) -> None:
        self.saved = dict(token)

    def save_verifier(self, *_args: Any) -> None:
        pass


def _new_key() -> str:
    return secrets.token_hex(16)


def signed_request_token(
    known: Known, url: str, headers: Mapping[str, str]
) -> tuple[str, str] | None:
    """A new (key, secret) if the consumer's signature is valid; None if not."""
    validator = _Validator(known)
    endpoint = oauth1.RequestTokenEndpoint(validator, token_generator=_new_key)
    _h, body, status = endpoint.create_request_token_response(
        url, http_method="POST", body=None, headers=dict(headers)
    )
    if status != 200 or not body or "oauth_token" not in validator.saved:
        return None
    return validator.saved["oauth_token"], validator.saved["oauth_token_secret"]


def signed_access_token(
    known: Known, url: str, headers: Mapping[str, str]
) -> tuple[str, str] | None:
    """A new (key, secret) if the request token's and consumer's signature and the verifier
    are valid; None if not."""
    validator = _Validator(known)
    endpoint = oauth1.AccessTokenEndpoint(validator, token_generator=_new_key)
    _h, body, status = endpoint.create_access_token_response(
        url, http_method="POST", body=None, headers=dict(headers)
    )
    if status != 200 or not body or "oauth_token" not in validator.saved:
        return None
    return validator.saved["oauth_token"], validator.saved["oauth_token_secret"]


def signed_with_access_token(known: Known, url: str, headers: Mapping[str, str]) -> bool:
    """Whether the request is signed by a consumer with one of its access tokens."""
    endpoint = oauth1.ResourceEndpoint(_Validator(known))
    valid, _request = endpoint.validate_protected_resource_request(
        url, http_method="POST", body=None, headers=dict(headers), realms=None
    )
    return bool(valid)
