"""Query-parameter checks and Nova's timestamps, with Nova's 400 wording (request bodies are
declared in ``compute.schemas``)."""

from __future__ import annotations

from datetime import datetime

from onestack.common import errors
from onestack.common.http import INT_RANGE
from onestack.compute.validation import FALSE_WORDS, TRUE_WORDS


def query_bool(value: str, name: str) -> bool:
    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in FALSE_WORDS:
        return False
    raise errors.BadRequest(f"Invalid value '{value}' for {name}.")


def query_int(value: str, name: str, minimum: int = 0) -> int:
    try:
        n = int(value)
    except ValueError:
        raise errors.BadRequest(
            f"Invalid input for query parameters {name}. Value: {value}. "
            f"'{value}' is not of type 'integer'"
        ) from None
    if n < minimum:
        raise errors.BadRequest(
            f"Invalid input for query parameters {name}. Value: {value}. "
            f"{n} is less than the minimum of {minimum}"
        )
    # Nova's schema sets no maximum (a limit is cut to max_limit later): a count past what
    # the database's LIMIT/OFFSET can take means the same as the largest it can.
    return min(n, INT_RANGE - 1)


def nova_time(value: datetime | None) -> str | None:
    """Nova's timestamps: ISO 8601 with microseconds and no zone (UTC implied)."""
    if value is None:
        return None
    return value.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S.%f")
