"""Errors that actions and access raise; the web and API layers turn them into answers."""

from __future__ import annotations


class AccordError(Exception):
    """Base of the errors Accord raises on purpose; ``status`` is the HTTP status to answer."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []

    def message(self, *, fields: bool = False) -> str:
        """The detail and each reason, as a page shows a refusal (``fields``: each reason
        with the field it is about, "note: required")."""
        reasons = "; ".join(
            f"{e['field']}: {e['reason']}" if fields else e["reason"] for e in self.errors
        )
        return f"{self.detail} {reasons}".strip()


class ActionRefused(AccordError):
    """The request is well-formed but the rules do not allow it (e.g. a wrong state)."""

    status = 409
    title = "Not allowed in this state"


class InvalidInput(AccordError):
    """A field is missing or wrong; ``errors`` names each field and reason."""

    status = 422
    title = "Invalid input"


class NotFound(AccordError):
    """Does not exist, or the actor may not know that it exists (never say which)."""

    status = 404
    title = "Not found"


class PermissionDenied(AccordError):
    """The actor may see the object but may not do this to it."""

    status = 403
    title = "Forbidden"
