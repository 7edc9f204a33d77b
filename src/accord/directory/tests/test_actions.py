"""The directory's rules as the actions enforce them, whatever page or endpoint calls them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accord.accounts.actions import create_api_token
from accord.accounts.identity import actor_for_token, actor_for_user
from accord.audit.models import AuditEvent
from accord.core.actors import SYSTEM
from accord.core.errors import PermissionDenied
from accord.directory.actions import (
    add_staff,
    create_unit,
    suspend_agency,
    update_agency,
    update_staff,
    update_unit,
)
from accord.directory.models import StaffProfile

pytestmark = pytest.mark.django_db


def _token_actor(agency, *scopes: str):
    token, _ = create_api_token(
        agency, "HR system", list(scopes), timezone.now() + timedelta(days=1), actor=SYSTEM
    )
    return actor_for_token(token)


def test_it_lets_an_agency_admin_change_only_contact_fields(county):
    admin = actor_for_user(county.defender_admin)
    update_agency(county.defender, actor=admin, email="desk@tpd.test.invalid", phone="555")
    for change in ({"name": "X"}, {"short_name": "X"}, {"jurisdiction": "X"}, {"kind": "court"}):
        with pytest.raises(PermissionDenied):
            update_agency(county.defender, actor=admin, **change)
    county.defender.refresh_from_db()
    assert county.defender.email == "desk@tpd.test.invalid"
    assert county.defender.name == "Test Public Defender"


def test_it_does_not_audit_an_update_that_changes_nothing(county):
    before = AuditEvent.objects.count()
    update_agency(county.defender, actor=SYSTEM, name="Test Public Defender")
    assert AuditEvent.objects.count() == before


def test_it_lets_no_one_but_a_coordinator_take_the_coordinator_role_away(county):
    council_admin = add_staff(
        county.council,
        actor=SYSTEM,
        username="council_admin",
        first_name="Council",
        last_name="Admin",
        email="ca@test.invalid",
        roles=["agency_admin"],
    ).user
    coordinator = county.coordinator.staff
    with pytest.raises(PermissionDenied):
        update_staff(coordinator, roles=["auditor"], actor=actor_for_user(council_admin))
    update_staff(coordinator, roles=["coordinator", "auditor"], actor=actor_for_user(council_admin))
    assert StaffProfile.objects.with_roles().get(pk=coordinator.pk).roles == {
        "coordinator",
        "auditor",
    }


def test_it_lets_a_write_token_manage_its_own_agency_only(county):
    token = _token_actor(county.defender, "directory:write")
    unit = create_unit(county.defender, "Records", actor=token)
    update_unit(unit, "Records Desk", actor=token)
    update_agency(county.defender, actor=token, phone="555-0123")
    profile = add_staff(
        county.defender,
        actor=token,
        username="from_hr",
        first_name="From",
        last_name="Hr",
        email="hr@test.invalid",
        roles=["investigator"],
    )
    with pytest.raises(PermissionDenied):
        create_unit(county.jail, "Records", actor=token)
    with pytest.raises(PermissionDenied):
        update_staff(county.jail_officer.staff, title="X", actor=token)
    assert profile.agency == county.defender


def test_it_keeps_passwords_and_governing_roles_from_tokens(county):
    token = _token_actor(county.defender, "directory:write")
    common = {
        "actor": token,
        "first_name": "A",
        "last_name": "B",
        "email": "ab@test.invalid",
    }
    with pytest.raises(PermissionDenied):
        add_staff(county.defender, username="p1", roles=[], password="long enough pw", **common)
    for role in ("agency_admin", "auditor", "coordinator"):
        with pytest.raises(PermissionDenied):
            add_staff(county.defender, username=f"r_{role}", roles=[role], **common)
    with pytest.raises(PermissionDenied):
        # nor take one away
        update_staff(county.defender_admin.staff, roles=[], actor=token)


def test_it_gives_a_token_without_the_write_scope_no_rights(county):
    token = _token_actor(county.defender, "directory:read")
    with pytest.raises(PermissionDenied):
        update_agency(county.defender, actor=token, phone="1")


def test_it_lets_no_administrator_of_a_suspended_agency_manage_it(county):
    suspend_agency(county.jail, "Review", actor=SYSTEM)
    with pytest.raises(PermissionDenied):
        create_unit(county.jail, "Booking", actor=actor_for_user(county.jail_admin))
    # the coordinator still manages it
    create_unit(county.jail, "Booking", actor=actor_for_user(county.coordinator))
