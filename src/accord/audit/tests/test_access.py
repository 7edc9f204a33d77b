from __future__ import annotations

import pytest

from accord.audit import chain
from accord.audit.codes import AuditAction
from accord.audit.models import AuditEvent
from accord.core.actors import SYSTEM, Actor
from accord.core.testing import as_

AUDITOR = frozenset({"auditor"})


def _event_for(agency_id: int | None) -> None:
    chain.append(Actor(label="x", agency_id=agency_id, is_system=True), "test.event")


def _agencies_seen(actor: Actor) -> set[int | None]:
    return set(AuditEvent.objects.visible_to(actor).values_list("agency_id", flat=True))


@pytest.fixture
def three_agencies(db):
    for agency_id in (1, 2, None):
        _event_for(agency_id)


def test_it_shows_an_agency_auditor_only_their_agency(three_agencies):
    assert _agencies_seen(Actor(label="a", user_id=1, agency_id=1, roles=AUDITOR)) == {1}


def test_it_shows_a_council_auditor_everything(three_agencies):
    council = Actor(
        label="c",
        user_id=2,
        agency_id=9,
        roles=AUDITOR,
        attributes={"agency_kind": "coordinating_council"},
    )
    assert _agencies_seen(council) == {1, 2, None}


def test_it_shows_a_person_without_the_auditor_role_nothing(three_agencies):
    assert _agencies_seen(Actor(label="p", user_id=3, agency_id=1, roles=frozenset())) == set()


def test_it_shows_a_token_with_audit_read_its_own_agency(three_agencies):
    token = Actor(label="t", token_id=1, agency_id=2, scopes=frozenset({"audit:read"}))
    assert _agencies_seen(token) == {2}


def test_it_keeps_a_council_token_to_its_own_agency(three_agencies):
    token = Actor(
        label="t",
        token_id=1,
        agency_id=2,
        scopes=frozenset({"audit:read"}),
        attributes={"agency_kind": "coordinating_council"},
    )
    assert _agencies_seen(token) == {2}


def test_it_shows_a_token_without_the_scope_nothing(three_agencies):
    token = Actor(label="t", token_id=1, agency_id=2, scopes=frozenset({"directory:read"}))
    assert _agencies_seen(token) == set()


def test_it_never_shows_agencyless_events_to_someone_without_an_agency(three_agencies):
    assert _agencies_seen(Actor(label="a", user_id=1, roles=AUDITOR)) == set()
    assert _agencies_seen(SYSTEM) == {1, 2, None}


@pytest.mark.django_db
def test_it_tells_an_agency_when_the_council_read_its_log(county):
    defender = county.defender.pk
    event = AuditEvent.objects.filter(agency_id=defender).latest("seq")
    as_(county.council_auditor).get(f"/audit/events/{event.seq}/")
    as_(county.council_auditor).get("/audit/", {"agency": str(defender)})
    as_(county.council_auditor).get("/audit/")
    reads = AuditEvent.objects.filter(action=AuditAction.AUDIT_VIEWED).order_by("seq")
    assert [read.agency_id for read in reads] == [defender, defender, county.council.pk]
    seen_by_defender = as_(county.defender_auditor).get(
        "/audit/", {"action": AuditAction.AUDIT_VIEWED}
    )
    labels = {row.actor_label for row, _agency in seen_by_defender.context["rows"]}
    assert labels == {"council_auditor"}
