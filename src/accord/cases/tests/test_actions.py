"""The case actions: what they write, what they refuse, and that a refusal writes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from accord.audit.models import AuditEvent
from accord.cases import actions
from accord.cases.models import Assignment, Case, Charge, Client, Party
from accord.cases.tests.conftest import actor, felony_type, new_client, open_case_for
from accord.core.errors import InvalidInput, NotFound, PermissionDenied
from accord.people.models import PersonRecord, PersonRole

pytestmark = pytest.mark.django_db


def test_it_opens_a_case_with_its_charges_parties_roles_and_attorney(case, office):
    assert case.client.person.agency == office.agencies["defender"]
    assert [c.statute for c in case.charges.all()] == ["720 ILCS 5/19-1"]
    party = Party.objects.get(case=case)
    assert party.role == "victim"
    assert party.person.last_name == "Garcia Lopez"
    roles = set(PersonRole.objects.values_list("role", "case_reference", "current"))
    assert ("client", case.reference, True) in roles
    assert ("victim", case.reference, True) in roles
    team = {(a.staff.user.username, a.role) for a in Assignment.objects.filter(case=case)}
    assert team == {("defender_attorney", "attorney"), ("defender_social_worker", "social_worker")}
    assert AuditEvent.objects.filter(action="cases.case_opened", object_id=str(case.pk)).exists()


def test_a_refused_case_writes_nothing(office):
    client = new_client(office)
    records, events = PersonRecord.objects.count(), AuditEvent.objects.count()
    with pytest.raises(InvalidInput) as refused:
        open_case_for(
            office,
            client,
            charges=[{"statute": "", "description": "x", "level": "felony"}],
            parties=[{"role": "victim", "first_name": "Ann", "last_name": ""}],
        )
    fields = {e["field"] for e in refused.value.errors}
    assert {"charges.0.statute", "parties.0.last_name"} <= fields
    assert Case.objects.count() == 0
    assert PersonRecord.objects.count() == records
    assert AuditEvent.objects.count() == events


def test_the_opener_needs_to_be_an_attorney_or_supervisor(office):
    client = new_client(office)
    with pytest.raises(PermissionDenied):
        actions.open_case(
            client,
            actor=actor(office.defender_social_worker),
            number="2025-CF-1",
            court=office.agencies["court"],
            case_type=felony_type(),
        )
    with pytest.raises(PermissionDenied):
        actions.create_client(
            office.agencies["defender"],
            actor=actor(office.prosecutor),
            first_name="A",
            last_name="B",
        )


def test_it_names_each_bad_field_of_a_case(office):
    client = new_client(office)
    with pytest.raises(InvalidInput) as refused:
        actions.open_case(
            client,
            actor=actor(office.defender_attorney),
            number="bad\nnumber",
            court=office.agencies["jail"],
            case_type=999999,
            opened_on=timezone.localdate() + timedelta(days=3),
        )
    assert {e["field"] for e in refused.value.errors} == {
        "number",
        "court",
        "case_type",
        "opened_on",
    }


def test_a_case_number_is_unique_per_court(case, office):
    client = new_client(office, first="Ann", last="Other", dob=date(1970, 1, 1))
    with pytest.raises(InvalidInput) as refused:
        open_case_for(office, client, parties=[])
    assert refused.value.errors == [
        {"field": "number", "reason": "the office already has this case"}
    ]


def test_closing_makes_the_client_and_parties_former(case, office):
    actions.close_case(case, actor=actor(office.defender_attorney), disposition="dismissed")
    roles = set(PersonRole.objects.values_list("role", "current"))
    assert roles == {("client", False), ("victim", False)}
    case.refresh_from_db()
    assert case.status == "closed"
    assert case.closed_on == timezone.localdate()
    actions.reopen_case(case, actor=actor(office.defender_attorney), reason="Remanded")
    assert set(PersonRole.objects.values_list("current", flat=True)) == {True}


def test_only_the_team_and_supervisors_change_a_case(case, office):
    with pytest.raises(PermissionDenied):
        actions.add_charge(
            case, actor=actor(office.other_attorney), statute="1", description="x", level="felony"
        )
    with pytest.raises(NotFound):
        actions.add_charge(
            case, actor=actor(office.prosecutor), statute="1", description="x", level="felony"
        )
    charge = actions.add_charge(
        case,
        actor=actor(office.defender_supervisor),
        statute="2",
        description="Theft",
        level="misdemeanor",
    )
    assert charge.position == 2
    actions.add_charge(
        case,
        actor=actor(office.defender_social_worker),
        statute="3",
        description="x",
        level="misdemeanor",
    )
    assert Charge.objects.filter(case=case).count() == 3


def test_attorneys_are_assigned_by_supervisors(case, office):
    from accord.core.testing import profile_of

    with pytest.raises(PermissionDenied):
        actions.assign(
            case,
            profile_of(office.other_attorney),
            "attorney",
            actor=actor(office.defender_attorney),
        )
    investigator = actions.assign(
        case,
        profile_of(office.defender_investigator),
        "investigator",
        actor=actor(office.defender_attorney),
    )
    assert investigator.active
    with pytest.raises(InvalidInput) as refused:
        actions.assign(
            case,
            profile_of(office.defender_social_worker),
            "attorney",
            actor=actor(office.defender_supervisor),
        )
    assert refused.value.errors == [
        {"field": "staff", "reason": "this staff member is not an attorney"}
    ]
    with pytest.raises(InvalidInput):
        actions.assign(
            case, profile_of(office.prosecutor), "attorney", actor=actor(office.defender_supervisor)
        )
    ended = actions.end_assignment(investigator, actor=actor(office.defender_attorney))
    assert ended.ends_on == timezone.localdate()


def test_custody_and_release(case, office):
    custody = actions.record_custody(
        case.client,
        actor=actor(office.defender_attorney),
        in_custody_since=timezone.localdate() - timedelta(days=2),
        facility="Test County Jail",
        bond_amount="2,500",
        bond_terms="cash",
    )
    assert str(custody.bond_amount) == "2500.00"
    with pytest.raises(InvalidInput):
        actions.record_custody(
            case.client,
            actor=actor(office.defender_attorney),
            in_custody_since=timezone.localdate(),
            facility="Again",
        )
    actions.record_release(
        custody, actor=actor(office.defender_attorney), released_on=timezone.localdate()
    )
    custody.refresh_from_db()
    assert not custody.in_custody
    with pytest.raises(PermissionDenied):
        actions.record_custody(
            case.client,
            actor=actor(office.other_attorney),
            in_custody_since=timezone.localdate(),
            facility="X",
        )


def test_removing_a_party_keeps_their_role_as_former(case, office):
    party = Party.objects.get(case=case)
    with pytest.raises(InvalidInput):
        actions.remove_party(party, actor=actor(office.defender_attorney), reason="")
    actions.remove_party(party, actor=actor(office.defender_attorney), reason="Entered twice")
    assert PersonRole.objects.get(record=party.person).current is False
    assert not Party.objects.present().filter(case=case).exists()


def test_a_client_number_is_the_offices_and_unique(office):
    client = new_client(office, number="HC-1")
    assert client.person.source_id == "HC-1"
    with pytest.raises(InvalidInput) as refused:
        new_client(office, number="HC-1")
    assert refused.value.errors == [{"field": "number", "reason": "another client has this number"}]
    assert Client.objects.count() == 1
