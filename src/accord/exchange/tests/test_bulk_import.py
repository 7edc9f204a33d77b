"""Bulk feeds through the chunked path (``ingest_bulk``): every bad row reported by line,
re-runs that create nothing, identity resolution and routing in bulk, refusals audited,
the audit chain intact, and a failing chunk that leaves nothing behind."""

from __future__ import annotations

import csv
from io import StringIO
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django_tasks_db.models import DBTaskResult
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.accounts.identity import actor_for_user
from accord.audit import chain
from accord.audit.models import AuditEvent
from accord.exchange.actions import event_types
from accord.exchange.bulk import quick_check
from accord.exchange.importer import Rejected, Row, import_events
from accord.exchange.models import Event, Notification
from accord.exchange.tasks import deliver_notification_batch
from accord.exchange.testing import attorney_subscribes, defender_client, jail_mou, minutes_ago
from accord.people.bulk_linkage import LinkageIndex
from accord.people.models import PersonLink, PersonRecord
from accord.policy.models import Disclosure

HEADER = [
    "event_type",
    "idempotency_key",
    "occurred_at",
    "booking_number",
    "facility",
    "subject.source_id",
    "subject.first_name",
    "subject.last_name",
    "subject.date_of_birth",
]


def _feed(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _booking(key: str, source_id: str, first: str = "Jordan", **over: str) -> list[str]:
    values = {
        "event_type": "custody.booked",
        "idempotency_key": key,
        "occurred_at": over.pop("occurred_at", minutes_ago(10).isoformat()),
        "booking_number": f"B-{key}",
        "facility": "Main jail",
        "subject.source_id": source_id,
        "subject.first_name": first,
        "subject.last_name": "Avery",
        "subject.date_of_birth": "1990-04-12",
    }
    values.update({k.replace("__", "."): v for k, v in over.items()})
    return [values[name] for name in HEADER]


def _import(path: Path, *extra: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(
        "import", "events", str(path), "--as", "jail_officer", *extra, stdout=out, stderr=err
    )
    return out.getvalue(), err.getvalue()


def test_it_reports_each_bad_row_by_line_and_keeps_the_good_ones(county, tmp_path):
    rows = [
        _booking("a", "J-1"),
        _booking("b", "J-2", facility=""),
        _booking("c", "J-3", occurred_at="last week"),
        _booking("d", "J-4", event_type="custody.teleported"),
        _booking("a", "J-1", first="Someone"),  # the key of line 2, another event
        _booking("e", "J-5", subject__date_of_birth="1890-01-01"),
        _booking("f", "J-6", occurred_at="2026-01-01T10:00:00"),
        _booking("a", "J-1"),  # line 2 again, byte for byte: a duplicate, not an error
        _booking("g", "J-7"),
    ]
    report_path = tmp_path / "report.csv"
    out, err = _import(
        _feed(tmp_path / "f.csv", rows), "--chunk-size", "4", "--report", str(report_path)
    )
    assert "2 created, 1 already taken, 6 rejected" in out
    assert "line 3: payload.facility: required" in err
    assert "line 4: occurred_at: an ISO 8601 date and time" in err
    assert "line 5: event_type: not in the event catalogue" in err
    assert "line 6: This idempotency key was already used for a different event" in err
    assert "line 7: payload.subject.date_of_birth" in err
    assert "line 8: occurred_at: include an offset" in err
    assert sorted(Event.objects.values_list("idempotency_key", flat=True)) == ["a", "g"]
    with report_path.open(encoding="utf-8") as handle:
        lines = [int(r["line"]) for r in csv.DictReader(handle)]
    assert lines == [3, 4, 5, 6, 7, 8]


def test_a_re_run_creates_nothing(county, tmp_path):
    path = _feed(tmp_path / "f.csv", [_booking(str(i), f"J-{i % 3}") for i in range(7)])
    out, _ = _import(path, "--chunk-size", "3")
    assert "7 created, 0 already taken, 0 rejected" in out
    counts = (Event.objects.count(), PersonRecord.objects.count(), AuditEvent.objects.count())
    again, _ = _import(path, "--chunk-size", "3")
    assert "0 created, 7 already taken, 0 rejected" in again
    assert Event.objects.count() == counts[0] == 7
    assert PersonRecord.objects.count() == counts[1] == 3
    # A re-run only adds its people batch rows to the log, no event rows.
    assert not AuditEvent.objects.filter(
        action="exchange.event_ingested", seq__gt=counts[2]
    ).exists()


def test_a_subject_under_a_variant_name_reaches_the_subscribed_defender(county, tmp_path):
    client = defender_client(county)
    jail_mou(county)
    attorney_subscribes(county, client)
    path = _feed(
        tmp_path / "f.csv",
        [
            _booking("1", "J-77", first="Jordon"),
            _booking("2", "J-8", first="Priya", subject__last_name="Raman"),
        ],
    )
    _import(path)
    booked = Event.objects.get(idempotency_key="1")
    assert booked.master_id == PersonLink.objects.get(record=client).master_id
    assert booked.subject_record is not None
    assert booked.subject_record.agency_id == county.jail.pk
    note = Notification.objects.get()
    assert note.event_id == booked.pk
    assert note.recipient_id == county.defender_attorney.pk
    assert "MOU-EX-1" in note.explanation
    disclosure = Disclosure.objects.get()
    assert disclosure.recipient_id == county.defender.pk
    assert f"exchange.event:{booked.pk}" in disclosure.record_refs
    assert AuditEvent.objects.filter(action="exchange.event_routed").count() == 1
    stranger = Event.objects.get(idempotency_key="2")
    assert stranger.master_id not in (None, booked.master_id)


def test_a_denied_recipient_gets_nothing_and_the_refusal_is_audited(county, tmp_path):
    client = defender_client(county)
    attorney_subscribes(county, client)  # no agreement with the jail
    _import(_feed(tmp_path / "f.csv", [_booking("1", "J-77")]))
    event = Event.objects.get()
    assert event.master_id == PersonLink.objects.get(record=client).master_id
    assert Notification.objects.count() == 0
    assert Disclosure.objects.count() == 0
    refusal = AuditEvent.objects.get(action="exchange.event_refused")
    assert refusal.outcome == "denied"
    assert refusal.object_id == str(event.pk)
    assert refusal.details["recipient"] == county.defender_attorney.pk


def test_the_audit_chain_verifies_after_a_bulk_import(county, tmp_path):
    client = defender_client(county)
    jail_mou(county)
    attorney_subscribes(county, client)
    rows = [_booking(str(i), f"J-{i % 4}", first=["Jordan", "Jordon"][i % 2]) for i in range(12)]
    _import(_feed(tmp_path / "f.csv", rows), "--chunk-size", "5")
    assert AuditEvent.objects.filter(action="exchange.event_ingested").count() == 12
    result = chain.verify()
    assert result.ok, result.reason
    assert result.checked == AuditEvent.objects.count()


def test_events_out_of_order_within_a_feed_are_marked(county, tmp_path):
    rows = [
        _booking("late", "J-1", occurred_at=minutes_ago(5).isoformat()),
        _booking("early", "J-1", occurred_at=minutes_ago(50).isoformat()),
    ]
    _import(_feed(tmp_path / "f.csv", rows))
    assert Event.objects.get(idempotency_key="early").out_of_order
    assert not Event.objects.get(idempotency_key="late").out_of_order


@pytest.fixture
def broken_notifications(db):
    """The database refuses every notification: a failure in the middle of a chunk, after
    its people, events and audit rows were written."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON exchange_notification "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON exchange_notification "
                "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER refuse"
            + (" ON exchange_notification" if connection.vendor == "postgresql" else "")
        )


def test_a_failure_mid_chunk_leaves_nothing_half_written(county, tmp_path, broken_notifications):
    client = defender_client(county)
    jail_mou(county)
    attorney_subscribes(county, client)
    rows = [_booking("0", "J-0", first="Ana", subject__last_name="Okafor")]
    rows += [_booking(str(i), "J-77", first="Jordon") for i in range(1, 4)]
    before = (PersonRecord.objects.count(), AuditEvent.objects.count())
    index = LinkageIndex()
    indexed = len(index)
    with pytest.raises(CommandError, match="line 3"):
        _import(_feed(tmp_path / "f.csv", rows), "--chunk-size", "1")
    # The first chunk (line 2, nobody subscribed) committed; the second failed whole.
    assert list(Event.objects.values_list("idempotency_key", flat=True)) == ["0"]
    assert PersonRecord.objects.filter(source_id="J-77").count() == 0
    assert PersonRecord.objects.count() == before[0] + 1
    assert not AuditEvent.objects.filter(
        action="exchange.event_ingested", details__idempotency_key="1"
    ).exists()
    assert chain.verify().ok
    # The feed's index was refreshed only with what committed.
    agency = county.jail
    with pytest.raises(Exception, match="disk full"):
        import_events(
            [Row(2, "custody.booked", "9", minutes_ago(1).isoformat(), _payload("J-77"))],
            agency,
            actor=actor_for_user(county.jail_officer),
            index=index,
        )
    assert len(index) == indexed


def _payload(source_id: str) -> dict[str, Any]:
    return {
        "subject": {
            "source_id": source_id,
            "first_name": "Jordon",
            "last_name": "Avery",
            "date_of_birth": "1990-04-12",
        },
        "booking_number": "B-9",
        "facility": "Main jail",
    }


def test_the_importer_passes_rows_the_reader_rejected_through(county):
    report = import_events(
        [Rejected(2, "not JSON: Expecting value")],
        county.jail,
        actor=actor_for_user(county.jail_officer),
    )
    assert report.summary == "0 created, 0 already taken, 1 rejected"
    assert report.rejected == [Rejected(2, "not JSON: Expecting value")]


_TEXTS = st.one_of(
    st.text(max_size=3),
    st.text(min_size=60, max_size=220),
    st.sampled_from(["1990-04-12", "1990-13-01", "1990-4-12", "2026-11-01T09:00:00Z"]),
    st.integers(),
    st.none(),
    st.lists(st.text(max_size=5), max_size=2),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    field=st.sampled_from(
        [
            "booking_number",
            "facility",
            "charges",
            "note",
            "extra",
            "subject.first_name",
            "subject.last_name",
            "subject.source_id",
            "subject.date_of_birth",
            "subject.aliases",
            "subject.extra",
        ]
    ),
    value=_TEXTS,
    drop=st.booleans(),
)
def test_the_quick_check_is_never_more_lenient_than_the_schema(db, field, value, drop):
    kind = event_types().get(code="custody.booked")
    quick = quick_check(kind.schema)
    assert quick is not None
    payload = _payload("J-1")
    head, _, tail = field.partition(".")
    target = payload["subject"] if tail else payload
    name = tail or head
    assert isinstance(target, dict)
    if drop:
        target.pop(name, None)
    else:
        target[name] = value
    checker = jsonschema.Draft202012Validator(
        kind.schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    if quick(payload):
        assert checker.is_valid(payload)


def test_notifications_of_a_feed_are_delivered_by_batch_tasks(county, tmp_path):
    client = defender_client(county)
    jail_mou(county)
    attorney_subscribes(county, client)
    rows = [_booking(str(i), "J-77", first="Jordon") for i in range(3)]
    _import(_feed(tmp_path / "f.csv", rows))
    notes = list(Notification.objects.order_by("pk"))
    assert len(notes) == 3
    task = DBTaskResult.objects.get(task_path__endswith="deliver_notification_batch")
    assert task.args_kwargs["args"] == [[n.pk for n in notes]]
    assert deliver_notification_batch.call([n.pk for n in notes]) == {"delivered": 3}
    assert not Notification.objects.filter(delivered_at__isnull=True).exists()
    assert deliver_notification_batch.call([notes[0].pk]) == {"nothing to do": 1}


def test_two_new_records_of_one_person_in_one_chunk_are_one_person(county, tmp_path):
    rows = [
        _booking("1", "J-1"),
        _booking("2", "J-2", first="Jordon"),  # the jail's duplicate record of the same man
        _booking("3", "J-3", first="Priya", subject__last_name="Raman"),
    ]
    _import(_feed(tmp_path / "f.csv", rows))
    first, second, other = (Event.objects.get(idempotency_key=k) for k in "123")
    assert first.master_id is not None
    assert second.master_id == first.master_id
    assert other.master_id != first.master_id
    link = PersonLink.objects.get(record_id=second.subject_record_id)
    assert link.method == "model"
    assert link.linked_to_id == first.subject_record_id


def test_a_sender_who_may_not_post_gets_every_row_refused(county, tmp_path):
    out, err = StringIO(), StringIO()
    path = _feed(tmp_path / "f.csv", [_booking("1", "J-1"), _booking("2", "J-2")])
    with pytest.raises(SystemExit):
        call_command(
            "import", "events", str(path), "--as", "council_auditor", stdout=out, stderr=err
        )
    assert "0 created, 0 already taken, 2 rejected" in out.getvalue()
    assert "line 3: Your role does not post events." in err.getvalue()
    assert Event.objects.count() == 0


def test_events_read_back_as_written(county, tmp_path):
    when = minutes_ago(42)
    _import(_feed(tmp_path / "f.csv", [_booking("1", "J-1", occurred_at=when.isoformat())]))
    event = Event.objects.get()
    assert event.occurred_at == when
    assert event.received_at is not None
    assert event.received_at >= when
    assert event.payload["subject"]["first_name"] == "Jordan"
    assert event.event_type.code == "custody.booked"
    assert event.received_by == "jail_officer"
    assert not event.out_of_order
