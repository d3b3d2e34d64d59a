"""OAuth1 (RFC 5849) request checks through oauthlib, as Keystone's ``OAuthValidator``.

oauthlib asks its validator synchronous questions (the consumer's secret, whether a request
token belongs to a consumer...). The service reads everything the request names from the
database first and hands it over as ``Known``; the validator then only looks things up.
Unknown consumers and tokens get oauthlib's dummy ones, so a wrong key costs the same time
as a wrong signature. oauthlib itself is imported only by ``oauth_validator``, which
checks the signatures."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field

# Keystone's verifier: eight letters and digits (a user may have to type it in).
VERIFIER_CHARS = string.ascii_letters + string.digits
VERIFIER_LENGTH = 8
_HEX = frozenset("abcdef0123456789")
_DUMMY = "0" * 32


def new_verifier() -> str:
    return "".join(secrets.choice(VERIFIER_CHARS) for _ in range(VERIFIER_LENGTH))


def oauth_params(authorization: str | None) -> dict[str, str]:
    """The ``oauth_*`` parameters of an ``Authorization: OAuth ...`` header (empty if none)."""
    if not authorization or not authorization.lower().startswith("oauth "):
        return {}
    from oauthlib.oauth1.rfc5849 import utils as oauth_utils

    try:
        return {
            k: v
            for k, v in oauth_utils.parse_authorization_header(authorization)
            if k.startswith("oauth_")
        }
    except ValueError:
        return {}


@dataclass
class Known:
    """What the database says about the keys a request names; secrets in clear."""

    consumers: dict[str, str] = field(default_factory=dict)  # id -> secret
    request_tokens: dict[str, tuple[str, str, str | None]] = field(
        default_factory=dict
    )  # id -> (secret, consumer id, verifier)
    access_tokens: dict[str, tuple[str, str]] = field(
        default_factory=dict
    )  # id -> (secret, consumer)
