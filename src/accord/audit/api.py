"""The audit log over the API: auditors, and agency systems holding ``audit:read`` tokens,
read the events they may see; auditors run a verification. Every read is itself audited."""

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from accord.audit import actions
from accord.audit.access import access_event, require_log_reader
from accord.audit.codes import AuditAction, Outcome
from accord.audit.filters import EventFilters, parse_filters
from accord.audit.models import AuditEvent, AuditEventQuerySet
from accord.core.actors import Actor
from accord.core.api import ERRORS, AccordCursorPagination, actor_of
from accord.core.errors import PermissionDenied

router = Router(tags=["audit"])


class EventQuery(Schema):
    """The same filters as the audit log page."""

    actor: str | None = None
    agency: int | None = None
    object_type: str | None = None
    object_id: str | None = None
    action: AuditAction | None = None
    outcome: Outcome | None = None
    date_from: date | None = None
    date_to: date | None = None

    def to_filters(self) -> EventFilters:
        return parse_filters(
            {
                name: value.isoformat() if isinstance(value, date) else value
                for name, value in self.model_dump().items()
                if value is not None
            }
        )


class AuditEventOut(Schema):
    seq: int
    occurred_at: datetime
    action: str
    action_label: str
    outcome: str
    actor_label: str
    actor_user_id: int | None
    actor_token_id: int | None
    agency_id: int | None
    object_type: str
    object_id: str
    object_label: str
    request_id: str
    source_ip: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class VerificationOut(Schema):
    ok: bool
    checked: int
    first_bad_seq: int | None
    reason: str


def _reader(request: HttpRequest) -> Actor:
    actor = actor_of(request)
    require_log_reader(actor)
    return actor


@router.get(
    "/events",
    response={200: list[AuditEventOut], **ERRORS},
    summary="List audit events",
    description=(
        "Newest first, with the audit log page's filters. Auditors see their agency's events "
        "(a coordinating council's auditors see all); a token needs the audit:read scope and "
        "sees its own agency's events. The read is itself recorded in the log."
    ),
)
@paginate(AccordCursorPagination, ordering=("-seq",))
def list_events(request: HttpRequest, filters: Query[EventQuery]) -> AuditEventQuerySet:
    actor = _reader(request)
    chosen = filters.to_filters()
    actions.record_audit_viewed(
        chosen.as_details(), actor=actor, via="api", cursor=request.GET.get("cursor", "")
    )
    return chosen.apply(AuditEvent.objects.visible_to(actor))


@router.get(
    "/events/{seq}",
    response={200: AuditEventOut, **ERRORS},
    summary="One audit event",
)
def get_event(request: HttpRequest, seq: int) -> AuditEvent:
    actor = _reader(request)
    event = access_event(actor, seq)
    actions.record_audit_viewed({}, actor=actor, via="api", event=event)
    return event


@router.get(
    "/verify",
    response={200: VerificationOut, **ERRORS},
    summary="Verify the audit chain",
    description=(
        "Walks the whole chain (slow on a long log) and records the result. Auditors only: "
        "API tokens cannot start a verification."
    ),
)
def verify_chain(request: HttpRequest) -> VerificationOut:
    actor = actor_of(request)
    if actor.scopes is not None or not actor.has_role("auditor"):
        raise PermissionDenied("Only auditors can verify the audit chain.")
    result = actions.verify_chain(actor=actor, via="api")
    return VerificationOut(
        ok=result.ok,
        checked=result.checked,
        first_bad_seq=result.first_bad_seq,
        reason=result.reason,
    )
