from __future__ import annotations

import pytest
from django.db import connection

from accord.audit import chain
from accord.audit.models import AuditEvent
from accord.core.actors import SYSTEM


def _append(n: int) -> None:
    for i in range(n):
        chain.append(SYSTEM, "test.event", details={"i": i})


def _tamper(sql: str, params: list[int | str]) -> None:
    """Write behind Accord's back, as an intruder with database access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


@pytest.mark.django_db
def test_it_verifies_an_intact_chain():
    _append(5)
    result = chain.verify()
    assert result.ok
    assert result.checked == 5


@pytest.mark.django_db
def test_it_names_an_edited_event():
    _append(5)
    _tamper("UPDATE audit_auditevent SET actor_label = %s WHERE seq = 3", ["mallory"])
    result = chain.verify()
    assert not result.ok
    assert result.first_bad_seq == 3
    assert "hash" in result.reason


@pytest.mark.django_db
def test_it_names_a_deleted_event():
    _append(5)
    _tamper("DELETE FROM audit_auditevent WHERE seq = 2", [])
    result = chain.verify()
    assert (result.ok, result.first_bad_seq) == (False, 2)


@pytest.mark.django_db
def test_it_detects_reordered_events():
    _append(4)
    _tamper("UPDATE audit_auditevent SET seq = -2 WHERE seq = 2", [])
    _tamper("UPDATE audit_auditevent SET seq = 2 WHERE seq = 3", [])
    _tamper("UPDATE audit_auditevent SET seq = 3 WHERE seq = -2", [])
    result = chain.verify()
    assert not result.ok
    assert result.first_bad_seq == 2


@pytest.mark.django_db
def test_it_refuses_to_update_an_event_through_the_orm():
    _append(1)
    event = AuditEvent.objects.get()
    event.actor_label = "mallory"
    with pytest.raises(RuntimeError, match="append-only"):
        event.save()
