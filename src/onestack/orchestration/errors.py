"""Heat's error body (its fault middleware): ``{"explanation", "code", "error": {"message",
"traceback", "type"}, "title"}``; ``type`` is Heat's exception name, ``explanation`` webob's
sentence for the status. The classes carry Heat's names and messages."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from onestack.common import errors

_EXPLANATIONS = {
    400: "The server could not comply with the request since it is either malformed or "
    "otherwise incorrect.",
    401: "This server could not verify that you are authorized to access the document you "
    "requested.",
    403: "Access was denied to this resource.",
    404: "The resource could not be found.",
    405: "The method is not allowed for this resource.",
    409: "There was a conflict when trying to complete your request.",
    413: "The request is larger than the server is willing or able to process.",
    415: "The request media type is not supported by this server.",
    503: "The server is currently unavailable. Please try again at a later time.",
}
_SERVER = "The server has either erred or is incapable of performing the requested operation."
# Common errors under the names Heat's middleware gives the same faults.
_TYPES = {
    "NotFound": "EntityNotFound",
    "ValidationError": "HTTPBadRequest",
    "BadRequest": "HTTPBadRequest",
    "Unauthorized": "HTTPUnauthorized",
    "Forbidden": "Forbidden",
    "MethodNotAllowed": "HTTPMethodNotAllowed",
    "Conflict": "HTTPConflict",
    "PayloadTooLarge": "RequestLimitExceeded",
    "UnsupportedMediaType": "HTTPUnsupportedMediaType",
}


def not_allowed(value: Any, allowed: Iterable[Any]) -> str:
    """Heat's AllowedValues error (constraints.py), each value as JSON: ``"x" is not an
    allowed value ["a", "b"]``."""
    listed = ", ".join(json.dumps(a) for a in allowed)
    return f"{json.dumps(value)} is not an allowed value [{listed}]"


def heat_body(err: errors.OneStackError) -> dict[str, Any]:
    return {
        "explanation": _EXPLANATIONS.get(err.code, _SERVER),
        "code": err.code,
        "error": {
            "message": err.message,
            "traceback": None,
            "type": _TYPES.get(err.name, err.name),
        },
        "title": err.title,
    }


class EntityNotFound(errors.NotFound):
    template = "The {entity} ({name}) could not be found."


class StackValidationFailed(errors.BadRequest):
    template = "{message}"


class InvalidTemplateVersion(errors.BadRequest):
    template = "The template version is invalid: {explanation}"


class UserParameterMissing(errors.BadRequest):
    template = "The Parameter ({key}) was not provided."


class TemplateOutputError(errors.BadRequest):
    template = "Error in {resource} output {attribute}: {reason}"


class InvalidTemplateReference(errors.BadRequest):
    template = 'The specified reference "{resource}" (in {key}) is incorrect.'


class CircularDependencyException(errors.BadRequest):
    template = "Circular Dependency Found: {cycle}"


class StackExists(errors.Conflict):
    template = "The Stack ({stack_name}) already exists."


class ActionInProgress(errors.Conflict):
    template = "Stack {stack_name} already has an action ({action}) in progress."


class NotSupported(errors.BadRequest):
    template = "{feature} is not supported."


class RequestLimitExceeded(errors.BadRequest):
    template = "Request limit exceeded: {message}"


class ResourceFailure(Exception):
    """A resource's create or delete failed: its reason goes into the event and the stack."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)
