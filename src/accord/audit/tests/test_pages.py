from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accord.audit import chain
from accord.audit.codes import AuditAction, Outcome
from accord.audit.models import AuditEvent
from accord.core.actors import SYSTEM, Actor
from accord.core.testing import as_, check_matrix

LIST = "/audit/"


def _events_by(agency_id: int, n: int, **kwargs) -> None:
    actor = Actor(label="filler", agency_id=agency_id, is_system=True)
    for i in range(n):
        chain.append(actor, "test.event", details={"i": i}, **kwargs)


def _reads(action: str = AuditAction.AUDIT_VIEWED) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def _seqs(response) -> list[int]:
    return [event.seq for event, _agency in response.context["rows"]]


@pytest.mark.django_db
def test_it_shows_the_log_only_to_auditors_and_hides_it_from_everyone_else(county):
    chain.append(SYSTEM, AuditAction.DEMO_SEEDED)
    seq = AuditEvent.objects.filter(agency_id=county.defender.pk).earliest("seq").seq
    expected = {
        None: 302,
        "council_auditor": 200,
        "defender_auditor": 200,
        "defender_attorney": 404,
        "defender_admin": 404,
        "coordinator": 404,
        "outsider": 404,
    }
    for url in (LIST, f"/audit/events/{seq}/", "/audit/export.csv"):
        check_matrix(county, "GET", url, expected)
    check_matrix(
        county, "POST", "/audit/verify", {None: 302, "defender_attorney": 404, "coordinator": 404}
    )


@pytest.mark.django_db
def test_it_shows_an_agency_auditor_only_their_agency_and_the_council_everything(county):
    defender, jail = county.defender.pk, county.jail.pk
    own = as_(county.defender_auditor).get(LIST)
    agencies = {event.agency_id for event, _name in own.context["rows"]}
    assert agencies == {defender}
    everything = as_(county.council_auditor).get(LIST)
    assert {jail, defender} <= {event.agency_id for event, _name in everything.context["rows"]}
    assert own.context["agency_choices"] == []
    assert (jail, "TCJ") in everything.context["agency_choices"]


@pytest.mark.django_db
def test_it_records_each_page_view_with_its_filters(county):
    before = len(_reads())
    client = as_(county.council_auditor)
    client.get(LIST, {"actor": "system", "outcome": "success", "date_from": "2024-01-01"})
    reads = _reads()
    assert len(reads) == before + 1
    read = reads[-1]
    assert read.actor_user_id == county.council_auditor.pk
    assert read.agency_id == county.council.pk
    assert read.details == {
        "via": "web",
        "filters": {"actor": "system", "outcome": "success", "date_from": "2024-01-01"},
    }


@pytest.mark.django_db
def test_it_filters_by_actor_action_outcome_object_and_agency(county):
    jail = county.jail.pk
    chain.append(
        Actor(label="jail-booking-system", agency_id=jail, is_system=True),
        AuditAction.TOKEN_REJECTED,
        outcome=Outcome.DENIED,
        object_type="accounts.apitoken",
        object_id="77",
    )
    client = as_(county.council_auditor)
    cases: list[dict[str, str]] = [
        {"actor": "BOOKING"},
        {"action": AuditAction.TOKEN_REJECTED, "agency": str(jail)},
        {"outcome": Outcome.DENIED},
        {"object_type": "accounts.apitoken", "object_id": "77"},
    ]
    for query in cases:
        rows = client.get(LIST, query).context["rows"]
        assert [event.actor_label for event, _agency in rows] == ["jail-booking-system"], query
    assert client.get(LIST, {"actor": "nobody-by-this-name"}).context["rows"] == []


@pytest.mark.django_db
def test_it_filters_by_local_dates_inclusively(county):
    today = timezone.localdate()
    client = as_(county.defender_auditor)
    today_rows = client.get(LIST, {"date_from": str(today), "date_to": str(today)}).context["rows"]
    assert today_rows
    yesterday = today - timedelta(days=1)
    assert client.get(LIST, {"date_to": str(yesterday)}).context["rows"] == []


@pytest.mark.django_db
def test_it_shows_invalid_filters_next_to_their_fields_and_records_no_read(county):
    before = len(_reads())
    response = as_(county.defender_auditor).get(
        LIST,
        {"date_from": "2024-05-02", "date_to": "2024-05-01", "action": "no.such", "agency": "x"},
    )
    assert response.status_code == 200
    errors = response.context["field_errors"]
    assert set(errors) == {"date_to", "action", "agency"}
    assert b"usa-form-group--error" in response.content
    assert b"must not be before the start date" in response.content
    assert len(_reads()) == before


@pytest.mark.django_db
def test_it_pages_through_the_log_newest_first_fifty_at_a_time(county):
    defender = county.defender.pk
    _events_by(defender, 120)
    client = as_(county.defender_auditor)
    visible = list(
        AuditEvent.objects.filter(agency_id=defender, action="test.event")
        .order_by("-seq")
        .values_list("seq", flat=True)
    )
    first = client.get(LIST, {"action": ""})
    page1 = _seqs(first)
    assert len(page1) == 50
    assert page1 == sorted(page1, reverse=True)
    assert first.context["newer_url"] == ""
    older = first.context["older_url"]
    assert older == f"?before={page1[-1]}"
    second = client.get(LIST + older)
    page2 = _seqs(second)
    assert len(page2) == 50
    assert page2[0] < page1[-1]
    assert set(visible[50:100]) <= set(page1 + page2) | set(visible[:50])
    back = client.get(LIST + second.context["newer_url"])
    assert _seqs(back) == page1


@pytest.mark.django_db
def test_it_keeps_the_filters_in_the_page_links(county):
    _events_by(county.defender.pk, 60)
    client = as_(county.defender_auditor)
    first = client.get(LIST, {"actor": "filler"})
    assert first.context["older_url"].startswith("?actor=filler&before=")
    second = client.get(LIST + first.context["older_url"])
    assert len(_seqs(second)) == 10
    assert second.context["older_url"] == ""
    assert second.context["newer_url"].startswith("?actor=filler&after=")


@pytest.mark.django_db
def test_it_shows_an_empty_state(county):
    response = as_(county.defender_auditor).get(LIST, {"actor": "nobody"})
    assert b"No events match these filters." in response.content


@pytest.mark.django_db
def test_it_lists_with_a_fixed_number_of_queries(county, django_assert_max_num_queries):
    _events_by(county.defender.pk, 120)
    client = as_(county.council_auditor)
    client.get(LIST)  # session activity and other first-request writes
    with django_assert_max_num_queries(20):
        response = client.get(LIST + "?before=100000")
    assert len(response.context["rows"]) == 50


@pytest.mark.django_db
def test_it_shows_one_event_with_its_hashes_and_records_the_read(county):
    event = AuditEvent.objects.filter(agency_id=county.defender.pk).latest("seq")
    response = as_(county.defender_auditor).get(f"/audit/events/{event.seq}/")
    assert response.status_code == 200
    content = response.content.decode()
    assert event.hash in content
    assert event.prev_hash in content
    assert event.action_label in content
    read = _reads()[-1]
    assert (read.object_type, read.object_id) == ("audit.auditevent", str(event.seq))
    assert read.details == {"via": "web", "filters": {}}


@pytest.mark.django_db
def test_it_hides_another_agencys_event_as_not_found(county):
    jail_event = AuditEvent.objects.filter(agency_id=county.jail.pk).earliest("seq")
    assert as_(county.defender_auditor).get(f"/audit/events/{jail_event.seq}/").status_code == 404
    assert as_(county.defender_auditor).get("/audit/events/999999/").status_code == 404
    assert as_(county.council_auditor).get(f"/audit/events/{jail_event.seq}/").status_code == 200


@pytest.mark.django_db
def test_it_links_to_the_previous_event_only_when_the_auditor_may_see_it(county):
    defender = county.defender.pk
    _events_by(defender, 2)
    last = AuditEvent.objects.latest("seq")
    response = as_(county.defender_auditor).get(f"/audit/events/{last.seq}/")
    assert reverse("audit:event-detail", args=[last.seq - 1]).encode() in response.content
    _events_by(county.jail.pk, 1)
    _events_by(defender, 1)
    after_jail = AuditEvent.objects.latest("seq")
    response = as_(county.defender_auditor).get(f"/audit/events/{after_jail.seq}/")
    assert not response.context["previous_visible"]
    assert b"belongs to an agency whose log you do not audit" in response.content


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.mark.django_db
def test_it_exports_the_filtered_events_as_csv_and_records_the_export(county):
    defender = county.defender.pk
    _events_by(defender, 3)
    response = as_(county.defender_auditor).get("/audit/export.csv", {"actor": "filler"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="accord-audit-')
    rows = _csv(response)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["seq", "occurred_at", "action"]
    assert header[-2:] == ["prev_hash", "hash"]
    assert len(body) == 3
    assert [row[header.index("details")] for row in body] == ['{"i": 0}', '{"i": 1}', '{"i": 2}']
    exported = _reads(AuditAction.AUDIT_EXPORTED)[-1]
    assert exported.details == {"via": "web", "filters": {"actor": "filler"}, "format": "csv"}
    assert exported.actor_user_id == county.defender_auditor.pk


@pytest.mark.django_db
def test_it_exports_only_what_the_auditor_may_see(county):
    rows = _csv(as_(county.defender_auditor).get("/audit/export.csv"))
    header, body = rows[0], rows[1:]
    assert {row[header.index("agency_id")] for row in body} == {str(county.defender.pk)}


@pytest.mark.django_db
def test_it_defuses_formulas_in_exported_cells(county):
    actor = Actor(label='=HYPERLINK("http://evil")', agency_id=county.defender.pk, is_system=True)
    chain.append(actor, "test.event", object_label="+1 and -1", object_type="@x", object_id="-5")
    rows = _csv(as_(county.defender_auditor).get("/audit/export.csv", {"actor": "HYPERLINK"}))
    header, row = rows[0], rows[1]
    assert row[header.index("actor_label")] == '\'=HYPERLINK("http://evil")'
    assert row[header.index("object_label")] == "'+1 and -1"
    assert row[header.index("object_type")] == "'@x"
    assert row[header.index("object_id")] == "'-5"


@pytest.mark.django_db
def test_it_sends_an_export_with_invalid_filters_back_to_the_form(county):
    response = as_(county.defender_auditor).get("/audit/export.csv", {"date_from": "soon"})
    assert response.status_code == 302
    assert response["Location"] == "/audit/?date_from=soon"
    assert _reads(AuditAction.AUDIT_EXPORTED) == []


@pytest.mark.django_db
def test_it_verifies_the_chain_on_request_and_shows_the_last_result(county):
    client = as_(county.defender_auditor)
    assert client.get(LIST).context["verification"] is None
    response = client.post("/audit/verify", follow=True)
    assert b"The audit chain is intact" in response.content
    verification = response.context["verification"]
    assert verification["ok"] is True
    assert verification["by"] == "defender_auditor"
    assert b"Last verification: <strong>intact</strong>" in response.content


@pytest.mark.django_db
def test_it_shows_a_failed_verification_prominently(county):
    from accord.audit.tests.test_chain import _tamper

    _tamper("UPDATE audit_auditevent SET actor_label = %s WHERE seq = 2", ["mallory"])
    response = as_(county.council_auditor).post("/audit/verify", follow=True)
    assert b"does NOT verify: first bad event #2" in response.content
    assert response.context["verification"]["first_bad_seq"] == 2
