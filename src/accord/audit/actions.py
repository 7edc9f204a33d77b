"""Every write the audit app makes on its own account: reads of the log, verifications and
checkpoints are themselves audited (NIST SP 800-53 AU-9: protection of audit information;
CJIS Security Policy 5.4: audit and accountability)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.audit import chain
from accord.audit.codes import AuditAction, Outcome
from accord.audit.models import AuditCheckpoint, AuditEvent, reads_every_agency
from accord.core.actions import action
from accord.core.actors import Actor

LOG_OBJECT_TYPE = "audit.auditevent"


def _agency_read(actor: Actor, filters: Mapping[str, Any], event: AuditEvent | None) -> int | None:
    """Whose log was read. A council auditor reading one agency's events (one event, or a
    list filtered to that agency) is recorded under that agency, so its own auditors can see
    who outside it read its log; every other read is recorded under the reader's agency."""
    if reads_every_agency(actor):
        if event is not None and event.agency_id is not None:
            return event.agency_id
        agency = filters.get("agency")
        if isinstance(agency, int):
            return agency
    return actor.agency_id


@action
def record_audit_viewed(
    filters: Mapping[str, Any],
    *,
    actor: Actor,
    via: str,
    event: AuditEvent | None = None,
    cursor: str = "",
) -> AuditEvent:
    """Record one read of the audit log (a page, an API answer, one event), with the
    filters that chose what was shown, so who watched the log can be read back from it."""
    details: dict[str, Any] = {"via": via, "filters": dict(filters)}
    if cursor:
        details["cursor"] = cursor[:100]
    agency_id = _agency_read(actor, filters, event)
    if event is None:
        return chain.append(actor, AuditAction.AUDIT_VIEWED, details=details, agency_id=agency_id)
    return chain.append(
        actor,
        AuditAction.AUDIT_VIEWED,
        details=details,
        agency_id=agency_id,
        object_type=LOG_OBJECT_TYPE,
        object_id=str(event.seq),
        object_label=f"audit event #{event.seq}",
    )


@action
def record_audit_exported(filters: Mapping[str, Any], *, actor: Actor, via: str) -> AuditEvent:
    """Record a CSV export of the audit log before the first row leaves; the rows are
    streamed, so the count is not known then: the filters say which rows they were."""
    return chain.append(
        actor,
        AuditAction.AUDIT_EXPORTED,
        agency_id=_agency_read(actor, filters, None),
        details={"via": via, "filters": dict(filters), "format": "csv"},
    )


def verify_chain(*, actor: Actor, via: str) -> chain.Verification:
    """Walk the whole chain, then record the result (so the audit page can show the last
    verification without walking a million events on every view). The walk runs outside
    any transaction: on SQLite a write transaction would hold off every append meanwhile."""
    result = chain.verify()
    record_verification(result, actor=actor, via=via)
    return result


@action
def record_verification(result: chain.Verification, *, actor: Actor, via: str) -> AuditEvent:
    """Record the outcome of one walk of the chain."""
    return chain.append(
        actor,
        AuditAction.AUDIT_VERIFIED,
        outcome=Outcome.SUCCESS if result.ok else Outcome.FAILURE,
        details={
            "via": via,
            "ok": result.ok,
            "checked": result.checked,
            "first_bad_seq": result.first_bad_seq,
            "reason": result.reason,
        },
    )


@action
def sign_checkpoint(*, actor: Actor) -> AuditCheckpoint | None:
    """Sign the chain's head with the installation's Ed25519 key; the event announcing the
    checkpoint is appended first, so the signature covers its own record. None when the
    head is already signed."""
    if not chain.can_sign():
        raise RuntimeError("Set ACCORD_AUDIT_SIGNING_KEY to sign audit checkpoints.")
    seq, _head = chain.head()
    if seq == 0 or AuditCheckpoint.objects.filter(seq=seq).exists():
        return None
    chain.append(actor, AuditAction.AUDIT_CHECKPOINT, details={"seq": seq + 1})
    return chain.sign_checkpoint()


def last_verification() -> AuditEvent | None:
    """The most recent recorded verification (whatever agency's auditor asks: the result is
    about the whole chain and names no one's data)."""
    return (
        AuditEvent.objects.filter(action=AuditAction.AUDIT_VERIFIED)
        .only("seq", "occurred_at", "actor_label", "outcome", "details")
        .order_by("-seq")
        .first()
    )
