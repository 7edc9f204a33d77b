"""Running a conflict check and deciding its hits: who may, what is kept, what is audited."""

from datetime import date

import pytest

from accord.accounts.identity import actor_for_user
from accord.audit.codes import AuditAction
from accord.audit.models import AuditEvent
from accord.core.errors import ActionRefused, InvalidInput, NotFound, PermissionDenied
from accord.people.actions import check_conflicts, decide_hit
from accord.people.models import CheckSource, ConflictHit, HitDecision

pytestmark = pytest.mark.django_db


def _check(county, parties, user="defender_attorney"):
    return check_conflicts(
        county.agencies["defender"],
        parties,
        actor=actor_for_user(county.people[user]),
        reference="2025-CF-0999",
        source=CheckSource.FORM,
    )


def test_it_records_ranked_hits_with_the_role_context(county, known):
    check = _check(
        county,
        [
            {
                "first_name": "Bill",
                "last_name": "Harper",
                "date_of_birth": "1990-03-04",
                "role": "co_defendant",
            },
            {"first_name": "Nobody", "last_name": "Atall"},
        ],
    )
    assert (check.candidate_count, check.hit_count, check.open_count) == (2, 1, 1)
    hit = check.hits.get()
    assert hit.record == known["william"]
    assert hit.explanation == "nickname + exact DOB"
    assert hit.roles_summary == "former client in 2019-CF-0042"
    assert check.outcome == "open"
    event = AuditEvent.objects.get(action=AuditAction.CONFLICT_CHECK_RUN)
    assert event.details["parties"] == 2
    assert event.details["hits"] == 1
    # The audit log names the check, never the parties.
    assert "Harper" not in str(event.details) + event.object_label


def test_it_refuses_invalid_parties_naming_each_field(county, known):
    with pytest.raises(InvalidInput) as refused:
        _check(
            county,
            [
                {"first_name": "Ann", "last_name": ""},
                {"last_name": "X", "first_name": "Y", "date_of_birth": "1990-13-45"},
            ],
        )
    fields = {e["field"] for e in refused.value.errors}
    assert fields == {"candidates.0.last_name", "candidates.1.date_of_birth"}


def test_another_agency_cannot_check_against_the_defenders_people(county, known):
    with pytest.raises(PermissionDenied):
        _check(county, [{"first_name": "William", "last_name": "Harper"}], user="jail_officer")


def test_an_attorney_clears_with_a_reason_and_the_check_is_clear(county, known):
    check = _check(county, [{"first_name": "William", "last_name": "Harper"}])
    hit = check.hits.get()
    attorney = actor_for_user(county.defender_attorney)
    with pytest.raises(InvalidInput):
        decide_hit(hit, HitDecision.CLEARED, actor=attorney)
    decide_hit(hit, HitDecision.CLEARED, actor=attorney, note="Different middle name and SSN")
    check.refresh_from_db()
    assert check.outcome == "clear"
    event = AuditEvent.objects.get(action=AuditAction.CONFLICT_HIT_DECIDED)
    assert event.details["decision"] == "cleared"
    assert event.details["previous"] == "open"


def test_an_investigator_may_only_flag_and_then_a_supervisor_decides(county, known):
    check = _check(county, [{"first_name": "William", "last_name": "Harper"}])
    hit = check.hits.get()
    investigator = actor_for_user(county.defender_investigator)
    with pytest.raises(PermissionDenied):
        decide_hit(hit, HitDecision.CONFIRMED, actor=investigator)
    decide_hit(hit, HitDecision.FLAGGED, actor=investigator, note="Same street as the victim")
    with pytest.raises(PermissionDenied):
        decide_hit(
            hit, HitDecision.CLEARED, actor=actor_for_user(county.defender_attorney), note="no"
        )
    decide_hit(hit, HitDecision.CONFIRMED, actor=actor_for_user(county.defender_supervisor))
    check.refresh_from_db()
    assert check.outcome == "conflict"
    assert check.confirmed_count == 1
    with pytest.raises(ActionRefused):
        decide_hit(hit, HitDecision.CONFIRMED, actor=actor_for_user(county.defender_supervisor))


def test_another_agency_cannot_decide_a_hit(county, known):
    hit = _check(county, [{"first_name": "William", "last_name": "Harper"}]).hits.get()
    with pytest.raises(NotFound):
        decide_hit(hit, HitDecision.CLEARED, actor=actor_for_user(county.prosecutor), note="x")
    assert ConflictHit.objects.get(pk=hit.pk).decision == HitDecision.OPEN


def test_a_person_with_a_current_role_shows_it(county, known):
    check = _check(
        county, [{"first_name": "Jon", "last_name": "Smith", "date_of_birth": date(1978, 6, 5)}]
    )
    hit = check.hits.get(record=known["smith"])
    assert hit.roles_summary == "current client in 2024-CF-0001"
