"""``append_many``: many events in one statement, chained exactly as ``append`` chains one."""

from __future__ import annotations

import pytest
from django.db import connection

from accord.audit import chain
from accord.audit.models import AuditEvent
from accord.core.actors import SYSTEM, Actor


@pytest.mark.django_db
def test_it_chains_a_batch_between_single_appends_and_verifies():
    chain.append(SYSTEM, "test.before")
    clerk = Actor(label="clerk", user_id=7, agency_id=3, request_id="r-1", source_ip="10.0.0.1")
    last = chain.append_many(
        [
            chain.Entry(clerk, "test.bulk", details={"i": i, "name": "Zoë", "when": None})
            for i in range(5)
        ]
        + [chain.Entry(SYSTEM, "test.bulk", outcome="denied", agency_id=9, object_id="x")]
    )
    chain.append(SYSTEM, "test.after")
    assert last == 7
    result = chain.verify()
    assert result.ok, result.reason
    assert result.checked == 8
    bulk = AuditEvent.objects.filter(action="test.bulk").order_by("seq")
    first = bulk.first()
    assert first is not None
    assert first.details == {"i": 0, "name": "Zoë", "when": None}
    assert (first.actor_user_id, first.agency_id, first.source_ip) == (7, 3, "10.0.0.1")
    assert bulk.last().agency_id == 9  # type: ignore[union-attr]


@pytest.mark.django_db
def test_an_edit_inside_a_batch_is_found():
    chain.append_many([chain.Entry(SYSTEM, "test.bulk", details={"i": i}) for i in range(4)])
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE audit_auditevent SET outcome = 'denied' WHERE seq = 2")
    result = chain.verify()
    assert not result.ok
    assert result.first_bad_seq == 2


@pytest.mark.django_db
def test_an_empty_batch_writes_nothing():
    chain.append(SYSTEM, "test.one")
    assert chain.append_many([]) == 1
    assert AuditEvent.objects.count() == 1
