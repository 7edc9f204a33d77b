"""Conflict checks of a case (ABA Model Rules 1.7, 1.9, 1.10: the whole office is one firm).

A case's client and parties are checked with the people app's :func:`check_conflicts`
against every current and former client and party of the office: when the case is opened,
when someone is assigned to it, whenever its party list changes, and on request. Only the
latest check of each subject counts (:class:`CaseConflictSubject.current`). Two kinds of hit
are decided at once, in the open and audited:

* a subject's own record in the office, when it says nothing new (the client's record
  known only as a client; a party's record known only in this case) is cleared;
* a hit a person already decided in an earlier check of the same subject keeps that
  decision, with a note saying whose and when.

Everything else waits for a lawyer (``decide_case_hit``); a confirmed conflict marks the
case for conflict counsel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from accord.audit.chain import append as audit
from accord.audit.codes import AuditAction
from accord.cases.guards import require_visible
from accord.cases.models import (
    Case,
    CaseConflictCheck,
    CaseConflictSubject,
    CheckTrigger,
    Party,
    current_hits,
    hits_visible_to,
)
from accord.core.actions import action
from accord.core.actors import SYSTEM, Actor
from accord.core.errors import NotFound
from accord.people.actions import check_conflicts, decide_hit
from accord.people.models import (
    CheckSource,
    ConflictCandidate,
    ConflictHit,
    HitDecision,
    PartyRole,
    PersonRecord,
    PersonRole,
)

DECIDED = (HitDecision.CLEARED, HitDecision.FLAGGED, HitDecision.CONFIRMED)


def candidate_of(person: PersonRecord, role: str) -> dict[str, Any]:
    """The conflict-check candidate for a person record."""
    return {
        "first_name": person.first_name,
        "middle_name": person.middle_name,
        "last_name": person.last_name,
        "date_of_birth": person.date_of_birth,
        "role": role,
    }


def run_check(case: Case, candidates: Sequence[Mapping[str, Any]], *, actor: Actor) -> Any:
    """Run the people app's check for these candidates under the case's reference."""
    return check_conflicts(
        case.agency,
        candidates,
        actor=actor,
        reference=case.reference,
        source=CheckSource.CASES,
    )


def attach(
    case: Case,
    check: Any,
    subjects: Sequence[Party | None],
    *,
    trigger: str,
    actor: Actor,
) -> CaseConflictCheck:
    """Tie a check to the case: its candidates, in order, are ``subjects`` (None: the
    client); it becomes their current check, and the hits that need no lawyer are decided."""
    case_check = CaseConflictCheck.objects.create(case=case, check_run=check, trigger=trigger)
    candidates = list(ConflictCandidate.objects.filter(check_run=check).order_by("row", "pk"))
    if len(candidates) != len(subjects):
        raise RuntimeError("A conflict check's candidates do not match the case's subjects.")
    for subject in subjects:
        earlier = CaseConflictSubject.objects.filter(case=case, current=True)
        earlier = earlier.filter(party=subject) if subject else earlier.filter(party__isnull=True)
        earlier.update(current=False)
    CaseConflictSubject.objects.bulk_create(
        [
            CaseConflictSubject(case=case, case_check=case_check, candidate=c, party=p)
            for c, p in zip(candidates, subjects, strict=True)
        ]
    )
    decided = _decide_known(
        case, check, dict(zip([c.pk for c in candidates], subjects, strict=True)), actor
    )
    hits = current_hits(case)
    audit(
        actor,
        AuditAction.CASE_CONFLICTS_CHECKED,
        obj=case,
        agency_id=case.agency_id,
        details={
            "check": check.pk,
            "trigger": trigger,
            "subjects": len(subjects),
            "hits": check.hit_count,
            "decided_at_once": decided,
            "unresolved": hits.filter(decision__in=[HitDecision.OPEN, HitDecision.FLAGGED]).count(),
        },
    )
    return case_check


def _harmless_own_record(roles: list[PersonRole], party: Party | None, case: Case) -> bool:
    if party is None:
        # The client's own record, known to the office only as a client: representing the
        # same person in several matters is no conflict.
        return all(r.role == PartyRole.CLIENT for r in roles)
    return all(r.case_reference == case.reference for r in roles)


def _decide_known(case: Case, check: Any, subjects: dict[int, Party | None], actor: Actor) -> int:
    hits = list(ConflictHit.objects.filter(check_run=check).order_by("pk"))
    if not hits:
        return 0
    own = {
        candidate_id: (party.person_id if party else case.client.person_id)
        for candidate_id, party in subjects.items()
    }
    roles: dict[int, list[PersonRole]] = {}
    for role in PersonRole.objects.filter(record_id__in=set(own.values())):
        roles.setdefault(role.record_id, []).append(role)
    earlier: dict[tuple[int | None, int], ConflictHit] = {}
    previous = (
        ConflictHit.objects.filter(
            candidate__case_subject__case=case,
            record_id__in={h.record_id for h in hits},
            decision__in=DECIDED,
        )
        .exclude(check_run=check)
        .select_related("candidate__case_subject")
        .order_by("decided_at", "pk")
    )
    for hit in previous:
        # Later decisions overwrite earlier ones: the most recent stands.
        earlier[(hit.candidate.case_subject.party_id, hit.record_id)] = hit
    system = SYSTEM.within(actor.request_id, actor.source_ip)
    decided = 0
    for hit in hits:
        party = subjects[hit.candidate_id]
        if hit.record_id == own[hit.candidate_id] and _harmless_own_record(
            roles.get(hit.record_id, []), party, case
        ):
            decide_hit(
                hit,
                HitDecision.CLEARED,
                actor=system,
                note="The subject's own record in this office, with no other role: no conflict.",
            )
            decided += 1
            continue
        before = earlier.get((party.pk if party else None, hit.record_id))
        if before is not None:
            when = before.decided_at.date().isoformat() if before.decided_at else "earlier"
            note = f"As decided by {before.decided_by} on {when} (hit #{before.pk})"
            if before.decision_note:
                note += f": {before.decision_note}"
            decide_hit(hit, before.decision, actor=system, note=note[:1000])
            decided += 1
    return decided


def check_subjects(
    case: Case, subjects: Sequence[Party | None], *, trigger: str, actor: Actor
) -> CaseConflictCheck:
    """Check subjects already recorded (the client, present parties) again."""
    candidates = [
        candidate_of(p.person, p.role) if p else candidate_of(case.client.person, PartyRole.CLIENT)
        for p in subjects
    ]
    check = run_check(case, candidates, actor=actor)
    return attach(case, check, subjects, trigger=trigger, actor=actor)


def check_whole_case(case: Case, *, trigger: str, actor: Actor) -> CaseConflictCheck:
    parties = list(Party.objects.present().filter(case=case).select_related("person"))
    return check_subjects(case, [None, *parties], trigger=trigger, actor=actor)


def retire_subject(case: Case, party: Party) -> None:
    """A party removed from the case: their hits no longer count."""
    CaseConflictSubject.objects.filter(case=case, party=party, current=True).update(current=False)


@action
def recheck_conflicts(case: Case, *, actor: Actor) -> CaseConflictCheck:
    """Check the case's client and every present party again (on request)."""
    from accord.cases.guards import require_change

    require_change(case, actor)
    return check_whole_case(case, trigger=CheckTrigger.REQUESTED, actor=actor)


@action
def decide_case_hit(
    case: Case, hit: ConflictHit, decision: str, *, actor: Actor, note: str = ""
) -> ConflictHit:
    """Clear a hit of the case, flag it for a supervisor, or confirm the conflict (the case
    then goes to conflict counsel): the people app's decision, on a hit of this case."""
    require_visible(case, actor)
    if not hits_visible_to(actor, case.pk).filter(pk=hit.pk).exists():
        raise NotFound(f"No conflict hit {hit.pk} on this case.")
    return decide_hit(hit, decision, actor=actor, note=note)
