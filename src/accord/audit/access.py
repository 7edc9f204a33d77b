"""Who may read the audit log, and one event of it (through ``visible_to``, never beside it)."""

from __future__ import annotations

from accord.audit.models import AuditEvent
from accord.core.actors import Actor
from accord.core.errors import NotFound, PermissionDenied


def is_log_reader(actor: Actor) -> bool:
    """A person with the auditor role, or an agency system's token with ``audit:read``."""
    if actor.scopes is not None:
        return "audit:read" in actor.scopes
    return actor.user_id is not None and actor.has_role("auditor")


def require_log_reader(actor: Actor) -> None:
    if actor.scopes is not None and "audit:read" not in actor.scopes:
        raise PermissionDenied("This token lacks the scope audit:read.")
    if not is_log_reader(actor):
        raise PermissionDenied("Only auditors can read the audit log.")


def access_event(actor: Actor, seq: int) -> AuditEvent:
    """Event ``seq`` if ``actor`` may read it; NotFound both when it does not exist and when
    it belongs to an agency the actor does not audit."""
    event: AuditEvent | None = AuditEvent.objects.visible_to(actor).filter(seq=seq).first()
    if event is None:
        raise NotFound(f"No audit event #{seq}.")
    return event
