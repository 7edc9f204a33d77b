"""Property: whatever was logged, any single tampering is caught, at or before its place."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from accord.audit import chain
from accord.audit.codes import AuditAction, Outcome
from accord.audit.models import AuditEvent
from accord.audit.tests import tampering
from accord.core.actors import Actor

# Text a database stores faithfully: no lone surrogates, no NUL (PostgreSQL refuses both).
TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=12)
DETAILS = st.dictionaries(
    TEXT, st.one_of(TEXT, st.integers(-(2**31), 2**31), st.booleans()), max_size=3
)
EVENTS = st.lists(
    st.fixed_dictionaries(
        {
            "label": TEXT,
            "agency_id": st.one_of(st.none(), st.integers(1, 5)),
            "action": st.sampled_from(AuditAction.values),
            "outcome": st.sampled_from(Outcome.values),
            "object_id": TEXT,
            "details": DETAILS,
        }
    ),
    min_size=1,
    max_size=8,
)
EDITABLE = (
    "action",
    "outcome",
    "actor_label",
    "agency_id",
    "object_id",
    "details",
    "occurred_at",
    "request_id",
    "prev_hash",
    "hash",
)


def _append(event: dict[str, Any]) -> None:
    actor = Actor(label=event["label"], agency_id=event["agency_id"], is_system=True)
    chain.append(
        actor,
        event["action"],
        outcome=event["outcome"],
        object_type="test.thing" if event["object_id"] else "",
        object_id=event["object_id"],
        details=event["details"],
    )


def _edit(data: st.DataObject, seq: int) -> None:
    field = data.draw(st.sampled_from(EDITABLE), label="field")
    row = AuditEvent.objects.filter(seq=seq).values(field).get()
    current = row[field]
    if field == "occurred_at":
        value: Any = connection.ops.adapt_datetimefield_value(current + timedelta(microseconds=1))
    elif field == "agency_id":
        value = (current or 0) + 1
    elif field == "details":
        value = '{"forged": true}' if current != {"forged": True} else "{}"
    else:
        value = "z" if current != "z" else "y"
    tampering.tamper(f"UPDATE audit_auditevent SET {field} = %s WHERE seq = %s", [value, seq])  # noqa: S608 - field from a fixed list


@pytest.mark.django_db
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=EVENTS, kind=st.sampled_from(["edit", "delete", "swap", "insert"]), data=st.data())
def test_it_catches_any_single_tampering_at_or_before_its_place(events, kind, data):
    with transaction.atomic():
        for event in events:
            _append(event)
        # A signed head makes even the newest event's deletion visible.
        assert chain.sign_checkpoint() is not None
        assert chain.verify().ok
        count = len(events)
        if kind == "edit":
            place = data.draw(st.integers(1, count), label="place")
            _edit(data, place)
        elif kind == "delete":
            place = data.draw(st.integers(1, count), label="place")
            tampering.delete(place)
        elif kind == "swap":
            assume(count >= 2)
            place = data.draw(st.integers(1, count - 1), label="place")
            other = data.draw(st.integers(place + 1, count), label="other")
            tampering.swap(place, other)
        else:
            at = data.draw(st.integers(1, count), label="at")
            tampering.insert_forged(at)
            # A well-formed forgery is indistinguishable on its own: history changed where
            # the displaced original event now stands.
            place = at + 1
        result = chain.verify()
        transaction.set_rollback(True)
    assert not result.ok, (kind, result)
    assert result.first_bad_seq is not None
    assert result.first_bad_seq <= place, (kind, place, result)
