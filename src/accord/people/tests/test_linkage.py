"""Incremental linkage, the review queue, merges and their undoing."""

from datetime import date
from typing import Any

import pytest

from accord.accounts.identity import actor_for_user
from accord.audit.codes import AuditAction
from accord.audit.models import AuditEvent
from accord.core.actors import SYSTEM
from accord.core.errors import ActionRefused, NotFound, PermissionDenied
from accord.people.actions import (
    decide_review,
    link_records,
    record_person,
    split_off_record,
    undo_merge,
)
from accord.people.models import (
    LinkMethod,
    MasterMerge,
    MatchReview,
    PersonLink,
    PersonRecord,
    ReviewStatus,
)

pytestmark = pytest.mark.django_db

JOHN: dict[str, Any] = {
    "first_name": "John",
    "last_name": "Smith",
    "date_of_birth": date(1990, 3, 4),
}


def _master(record):
    return PersonLink.objects.get(record=record).master_id


def test_the_jails_variant_name_joins_the_defenders_person(county):
    client = record_person(
        county.agencies["defender"], "D-1", actor=SYSTEM, identifiers={"ssn_last4": "1234"}, **JOHN
    )
    booking = record_person(
        county.agencies["jail"],
        "B-9",
        actor=SYSTEM,
        first_name="Jon",
        last_name="Smyth",
        date_of_birth=date(1990, 3, 4),
        identifiers={"ssn_last4": "1234"},
    )
    assert _master(booking) == _master(client)
    link = PersonLink.objects.get(record=booking)
    assert link.method == LinkMethod.MODEL
    assert link.linked_to_id == client.pk
    assert {"dob", "ssn_last4"} <= set(link.agreed_fields)
    assert (link.match_probability or 0) >= 0.99
    event = AuditEvent.objects.filter(action=AuditAction.PERSON_LINKED).latest("seq")
    assert event.details["method"] == "model"


def test_a_different_person_gets_a_person_of_their_own(county):
    first = record_person(county.agencies["defender"], "D-1", actor=SYSTEM, **JOHN)
    other = record_person(
        county.agencies["jail"],
        "B-1",
        actor=SYSTEM,
        first_name="John",
        last_name="Smith",
        date_of_birth=date(1961, 7, 9),
    )
    assert _master(first) != _master(other)
    assert PersonLink.objects.get(record=other).method == LinkMethod.SINGLE
    assert not MatchReview.objects.exists()


def _uncertain_pair(county):
    defender = county.agencies["defender"]
    a = record_person(defender, "D-1", actor=SYSTEM, **JOHN)
    b = record_person(
        defender,
        "D-2",
        actor=SYSTEM,
        first_name="John",
        last_name="Smith",
        date_of_birth=date(1990, 3, 7),
    )
    return a, b, MatchReview.objects.get()


def test_an_uncertain_pair_waits_for_a_person(county):
    a, b, review = _uncertain_pair(county)
    assert _master(a) != _master(b)
    assert review.status == ReviewStatus.PENDING
    assert 0.5 <= review.match_probability < 0.99
    assert "name" in review.agreed_fields
    assert review.comparison["dob"] == "One digit off"


def test_a_supervisor_confirms_and_then_undoes_the_merge(county):
    a, b, review = _uncertain_pair(county)
    supervisor = actor_for_user(county.defender_supervisor)
    decide_review(review, "confirmed", actor=supervisor, note="Same booking photo")
    assert _master(a) == _master(b)
    merge = MasterMerge.objects.get()
    assert PersonLink.objects.get(record=b).method == LinkMethod.REVIEWER
    undo_merge(merge, actor=supervisor, reason="Twins: different SSNs")
    assert _master(a) != _master(b)
    assert PersonLink.objects.get(record=b).method == LinkMethod.SINGLE
    review.refresh_from_db()
    assert review.status == ReviewStatus.SPLIT
    with pytest.raises(ActionRefused):
        undo_merge(merge, actor=supervisor, reason="again")
    # Linking again never puts back what a person took apart.
    link_records([b], actor=SYSTEM)
    assert _master(a) != _master(b)
    codes = set(AuditEvent.objects.values_list("action", flat=True))
    assert {AuditAction.MATCH_CONFIRMED, AuditAction.MERGE_UNDONE} <= codes


def test_a_split_pair_is_never_linked_again(county):
    a, b, review = _uncertain_pair(county)
    decide_review(review, "split", actor=actor_for_user(county.defender_admin))
    link_records([b], actor=SYSTEM)
    assert _master(a) != _master(b)
    assert MatchReview.objects.get().status == ReviewStatus.SPLIT
    with pytest.raises(ActionRefused):
        decide_review(review, "confirmed", actor=actor_for_user(county.defender_admin))


def test_only_the_agencys_reviewers_decide(county):
    _a, _b, review = _uncertain_pair(county)
    for persona in ("defender_attorney", "jail_admin", "coordinator"):
        with pytest.raises(NotFound):
            decide_review(review, "confirmed", actor=actor_for_user(county.people[persona]))
    assert MatchReview.objects.get().status == ReviewStatus.PENDING


def test_a_wrong_model_link_is_split_off_for_good(county):
    client = record_person(county.agencies["defender"], "D-1", actor=SYSTEM, **JOHN)
    twin = record_person(county.agencies["defender"], "D-3", actor=SYSTEM, **JOHN)
    assert _master(client) == _master(twin)
    split_off_record(
        twin, actor=actor_for_user(county.defender_supervisor), reason="Twin brother; different SSN"
    )
    assert _master(client) != _master(twin)
    link_records([twin], actor=SYSTEM)
    assert _master(client) != _master(twin)


def test_another_agency_cannot_record_the_defenders_people(county):
    with pytest.raises(PermissionDenied):
        record_person(
            county.agencies["defender"], "X", actor=actor_for_user(county.jail_officer), **JOHN
        )


def test_an_update_relinks_and_an_unchanged_record_does_not(county):
    record = record_person(county.agencies["defender"], "D-1", actor=SYSTEM, **JOHN)
    links = AuditEvent.objects.filter(action=AuditAction.PERSON_LINKED).count()
    record_person(county.agencies["defender"], "D-1", actor=SYSTEM, **JOHN)
    assert AuditEvent.objects.filter(action=AuditAction.PERSON_LINKED).count() == links
    record_person(
        county.agencies["defender"], "D-1", actor=SYSTEM, **{**JOHN, "first_name": "Johnny"}
    )
    assert AuditEvent.objects.filter(action=AuditAction.PERSON_LINKED).count() == links + 1
    record.refresh_from_db()
    assert record.first_name == "Johnny"


def test_a_batch_finds_each_records_candidates_as_a_look_up_of_its_own(county):
    from accord.directory.models import Agency
    from accord.people import linkage, matching
    from accord.people.actions import record_people
    from accord.people.keys import query_keys

    record_person(county.agencies["defender"], "D-1", actor=SYSTEM, **JOHN)
    record_person(
        county.agencies["defender"], "D-2", actor=SYSTEM, first_name="Mary", last_name="Smith"
    )
    recorded = record_people(
        county.agencies["jail"],
        [
            {
                "source_id": "J-1",
                "first_name": "Jon",
                "last_name": "Smyth",
                "date_of_birth": "1990-03-04",
            },
            {"source_id": "J-2", "first_name": "Maria", "last_name": "Smith", "aliases": "M Jones"},
            {"source_id": "J-3", "first_name": "Zed", "last_name": "Quill"},
        ],
        actor=SYSTEM,
    )
    records = [r for r in recorded if isinstance(r, PersonRecord)]
    assert len(records) == 3
    found = linkage.candidate_ids(records)
    for record in records:
        keys: dict[str, set[str]] = {}
        for name in record.names():
            for kind, values in query_keys(name, record.date_of_birth).items():
                keys.setdefault(kind, set()).update(values)
        alone = {
            other
            for agency_id in Agency.objects.values_list("pk", flat=True)
            for other, _ in matching.candidates(agency_id, keys)
        } - {record.pk}
        assert set(found[record.pk]) == alone
    assert found[records[0].pk]  # Jon Smyth finds John Smith
    assert _master(records[0]) == _master(PersonLink.objects.get(record__source_id="D-1").record)
