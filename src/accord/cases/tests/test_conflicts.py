"""Conflict checks wired into the case actions (ABA Model Rules 1.7, 1.9, 1.10)."""

from __future__ import annotations

from datetime import date

import pytest

from accord.cases import actions
from accord.cases.models import Case, CaseConflictCheck, current_hits
from accord.cases.tests.conftest import actor, new_client, open_case_for
from accord.core.errors import NotFound, PermissionDenied
from accord.people.models import HitDecision

pytestmark = pytest.mark.django_db


def _state(case):
    return (
        Case.objects.with_conflict_state()
        .values_list("unresolved_hits", "confirmed_conflict")
        .get(pk=case.pk)
    )


def test_a_new_client_with_no_history_opens_clear(case):
    check = CaseConflictCheck.objects.filter(case=case).earliest("pk")
    assert check.trigger == "opened"
    assert check.check_run.candidate_count == 2
    assert _state(case) == (False, False)


def test_a_victim_who_was_once_our_client_is_a_hit_waiting_for_a_lawyer(case, office):
    # A new client, whose victim is William Harper — the client of the first case.
    other = new_client(office, first="Dana", last="Smith", dob=date(1980, 1, 2))
    second = open_case_for(
        office,
        other,
        number="2025-CF-000999",
        parties=[
            {
                "role": "victim",
                "first_name": "Bill",
                "last_name": "Harper",
                "date_of_birth": "1990-03-04",
            }
        ],
    )
    # The new client's own record is found and cleared at once; the victim waits.
    own = current_hits(second).get(record=other.person)
    assert own.decision == HitDecision.CLEARED
    assert own.decided_by == "system"
    hits = list(current_hits(second).exclude(record=other.person))
    assert len(hits) == 1
    hit = hits[0]
    assert hit.record_id == case.client.person_id
    assert "nickname" in hit.explanation
    assert "client" in hit.roles_summary
    assert hit.decision == HitDecision.OPEN
    assert _state(second) == (True, False)

    # A social worker may not clear it; the attorney confirms it: conflict counsel.
    with pytest.raises(PermissionDenied):
        actions.decide_case_hit(
            second, hit, "cleared", actor=actor(office.defender_social_worker), note="x"
        )
    actions.decide_case_hit(second, hit, "confirmed", actor=actor(office.defender_attorney))
    assert _state(second) == (False, True)


def test_a_decided_hit_keeps_its_decision_when_the_case_is_checked_again(case, office):
    other = new_client(office, first="Dana", last="Smith", dob=date(1980, 1, 2))
    second = open_case_for(
        office,
        other,
        number="2025-CF-000999",
        parties=[{"role": "witness", "first_name": "William", "last_name": "Harper"}],
    )
    hit = current_hits(second).exclude(record=other.person).get()
    actions.decide_case_hit(
        second,
        hit,
        "cleared",
        actor=actor(office.defender_attorney),
        note="Different man: checked the booking photo",
    )
    actions.recheck_conflicts(second, actor=actor(office.defender_attorney))
    again = current_hits(second).filter(record=case.client.person).exclude(pk=hit.pk)
    assert [h.decision for h in again] == [HitDecision.CLEARED]
    assert "Different man" in again.get().decision_note
    assert again.get().decided_by == "system"
    assert _state(second) == (False, False)


def test_rechecking_does_not_find_the_subjects_themselves(case, office):
    actions.recheck_conflicts(case, actor=actor(office.defender_attorney))
    hits = list(current_hits(case))
    # The client's own record (known only as a client) and the victim's (known only in
    # this case) are found, and cleared at once with a note saying why.
    assert {h.record_id for h in hits} == {
        case.client.person_id,
        case.parties.get().person_id,
    }
    assert {h.decision for h in hits} == {HitDecision.CLEARED}
    assert _state(case) == (False, False)


def test_adding_a_party_checks_them_and_removing_them_retires_their_hits(case, office):
    other = new_client(office, first="Dana", last="Smith", dob=date(1980, 1, 2))
    second = open_case_for(office, other, number="2025-CF-000999", parties=[])
    party = actions.add_party(
        second,
        actor=actor(office.defender_attorney),
        role="informant",
        first_name="Maria",
        last_name="Garcia",
        date_of_birth="1985-11-20",
    )
    assert _state(second) == (True, False)
    assert CaseConflictCheck.objects.filter(case=second).latest("pk").trigger == "parties_changed"
    actions.remove_party(party, actor=actor(office.defender_attorney), reason="Wrong case")
    assert _state(second) == (False, False)


def test_assigning_checks_the_case_again(case, office):
    from accord.core.testing import profile_of

    before = CaseConflictCheck.objects.filter(case=case).count()
    actions.assign(
        case,
        profile_of(office.defender_investigator),
        "investigator",
        actor=actor(office.defender_attorney),
    )
    assert CaseConflictCheck.objects.filter(case=case).count() == before + 1
    assert CaseConflictCheck.objects.filter(case=case).latest("pk").trigger == "assigned"


def test_a_hit_of_another_case_cannot_be_decided_through_this_one(case, office):
    other = new_client(office, first="Dana", last="Smith", dob=date(1980, 1, 2))
    second = open_case_for(
        office,
        other,
        number="2025-CF-000999",
        parties=[{"role": "victim", "first_name": "Bill", "last_name": "Harper"}],
    )
    hit = current_hits(second).exclude(record=other.person).get()
    with pytest.raises(NotFound):
        actions.decide_case_hit(case, hit, "confirmed", actor=actor(office.defender_attorney))
