"""Image errors beyond the common hierarchy (codes Glance uses that no other service needs)."""

from __future__ import annotations

from onestack.common import errors


class Gone(errors.OneStackError):
    code = 410
    title = "Gone"
    template = "Image {id} was deleted while its data was being stored."


class RangeNotSatisfiable(errors.OneStackError):
    code = 416
    title = "Requested Range Not Satisfiable"
    template = "The requested range is not satisfiable for an image of {size} bytes."


class OverQuota(errors.PayloadTooLarge):
    template = "{what}"
