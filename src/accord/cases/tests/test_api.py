"""The cases API: the permission matrix (people and tokens), 422s that name each field,
nothing half-written, answers that match the OpenAPI document (``as_`` checks each)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from accord.audit.models import AuditEvent
from accord.cases import actions
from accord.cases.models import Case, CaseType, Charge, Client, Party, Tickler
from accord.cases.tests.conftest import (
    actor,
    check_many,
    matrix,
    new_client,
    token,
)
from accord.core.testing import as_

pytestmark = pytest.mark.django_db
API = "/api/v1/cases"
PDF = b"%PDF-1.4\n%%EOF\n"


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


def api_matrix(**kwargs):
    return matrix(anonymous=401, **kwargs)


def test_reads_are_for_the_defenders_case_staff(case, office):
    party = Party.objects.get(case=case)
    urls = [
        f"{API}/cases?scope=office",
        f"{API}/cases/{case.pk}",
        f"{API}/clients",
        f"{API}/clients/{case.client_id}",
        f"{API}/clients/{case.client_id}/cases",
        f"{API}/clients/{case.client_id}/custody",
        f"{API}/cases/{case.pk}/charges",
        f"{API}/cases/{case.pk}/events",
        f"{API}/cases/{case.pk}/parties",
        f"{API}/cases/{case.pk}/team",
        f"{API}/cases/{case.pk}/conflicts",
        f"{API}/ticklers",
        f"{API}/case-types",
    ]
    check_many(office, "GET", urls, api_matrix(team=200, off_team=200))
    assert party.pk in [
        p["id"]
        for p in as_(office.defender_investigator).get(f"{API}/cases/{case.pk}/parties").json()
    ]


def test_privileged_endpoints_are_for_the_team_only(case, office):
    note = actions.write_note(case, actor=actor(office.defender_attorney), text="privileged")
    document = actions.upload_document(
        case, actor=actor(office.defender_attorney), filename="a.pdf", content=PDF
    )
    check_many(
        office,
        "GET",
        [f"{API}/cases/{case.pk}/notes", f"{API}/cases/{case.pk}/documents"],
        api_matrix(team=200, off_team=403),
    )
    check_many(
        office,
        "GET",
        [f"{API}/documents/{document.pk}/content"],
        api_matrix(team=200, off_team=404),
    )
    listed = as_(office.defender_social_worker).get(f"{API}/cases/{case.pk}/notes").json()
    assert [n["text"] for n in listed] == ["privileged"]
    assert listed[0]["label"].startswith("Privileged")
    # Only the author edits.
    assert (
        patch(as_(office.defender_supervisor), f"{API}/notes/{note.pk}", {"text": "x"}).status_code
        == 403
    )
    assert (
        patch(as_(office.defender_attorney), f"{API}/notes/{note.pk}", {"text": "y"}).json()["text"]
        == "y"
    )


def test_tokens_need_the_cases_scopes_and_never_read_privileged_material(case, office):
    actions.write_note(case, actor=actor(office.defender_attorney), text="privileged")
    directory_only = token(office, "defender", "directory:read")
    assert directory_only.get(f"{API}/cases").status_code == 403
    jail_reader = token(office, "jail", "cases:read")
    assert jail_reader.get(f"{API}/cases").status_code == 403
    reader = token(office, "defender", "cases:read")
    assert [c["id"] for c in reader.get(f"{API}/cases").json()["results"]] == [case.pk]
    assert reader.get(f"{API}/cases/{case.pk}/notes").status_code == 403
    assert (
        post(
            reader,
            f"{API}/cases/{case.pk}/charges",
            {"statute": "1", "description": "x", "level": "felony"},
        ).status_code
        == 403
    )
    writer = token(office, "defender", "cases:read", "cases:write")
    added = post(
        writer,
        f"{API}/cases/{case.pk}/charges",
        {"statute": "HCS 2", "description": "Theft", "level": "misdemeanor"},
    )
    assert added.status_code == 201
    assert post(writer, f"{API}/cases/{case.pk}/notes", {"text": "x"}).status_code == 403
    assert post(writer, f"{API}/calendar/feed", {}).status_code == 403


def test_opening_a_case_over_the_api(office):
    client_id = post(
        as_(office.defender_attorney),
        f"{API}/clients",
        {
            "first_name": "Ana",
            "last_name": "Rivera",
            "date_of_birth": "1991-05-06",
            "aliases": [{"first_name": "Annie", "last_name": "Rivera"}],
        },
    ).json()["id"]
    body = {
        "client_id": client_id,
        "number": "2025-CF-42",
        "court_id": office.agencies["court"].pk,
        "case_type_id": CaseType.objects.get(code="felony_mid").pk,
        "charges": [
            {
                "statute": "HCS 13-1204",
                "description": "Aggravated assault",
                "level": "felony",
                "degree": "Class 3",
            }
        ],
        "parties": [{"role": "victim", "first_name": "Lee", "last_name": "Chan"}],
    }
    response = post(as_(office.defender_attorney), f"{API}/cases", body)
    assert response.status_code == 201
    opened = response.json()
    assert opened["status"] == "open"
    assert [c["statute"] for c in opened["charges"]] == ["HCS 13-1204"]
    assert [p["last_name"] for p in opened["parties"]] == ["Chan"]
    assert [t["name"] for t in opened["team"]] == ["Defender Attorney"]
    assert opened["conflict"] == {"unresolved_hits": False, "confirmed_conflict": False}
    listed = as_(office.defender_attorney).get(f"{API}/cases").json()["results"]
    assert [c["number"] for c in listed] == ["2025-CF-42"]


def test_a_bad_case_is_a_422_naming_each_field_and_writes_nothing(office):
    client = new_client(office)
    body = {
        "client_id": client.pk,
        "number": "2025-CF-1",
        "court_id": office.agencies["jail"].pk,
        "case_type_id": 99999,
        "opened_on": "2999-01-01",
        "charges": [{"statute": "", "description": "x", "level": "felony"}],
        "parties": [{"role": "victim", "first_name": "A", "last_name": ""}],
    }
    response = post(as_(office.defender_attorney), f"{API}/cases", body)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"court", "case_type", "opened_on", "charges.0.statute", "parties.0.last_name"}
    assert not Case.objects.exists()
    # Schema errors name their fields too: a wrong type, an unknown field, a bad choice.
    response = post(
        as_(office.defender_attorney),
        f"{API}/cases",
        {
            **body,
            "court_id": "court",
            "colour": "red",
            "charges": [{"statute": "1", "description": "x", "level": "treason"}],
        },
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"court_id", "colour", "charges.0.level"} <= fields


def test_a_client_needs_names(office):
    response = post(
        as_(office.defender_attorney), f"{API}/clients", {"first_name": " ", "last_name": "X" * 101}
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"first_name", "last_name"}
    assert not Client.objects.exists()


def test_changing_a_cases_parts_over_the_api(case, office):
    attorney = as_(office.defender_attorney)
    charge = Charge.objects.get(case=case)
    done = patch(attorney, f"{API}/charges/{charge.pk}", {"disposition": "dismissed"})
    assert done.json()["disposition"] == "dismissed"
    event = post(
        attorney,
        f"{API}/cases/{case.pk}/events",
        {
            "kind": "trial",
            "starts_at": (timezone.now() + timedelta(days=20)).isoformat(),
            "courtroom": "3B",
        },
    ).json()
    moved = post(
        attorney,
        f"{API}/events/{event['id']}/outcome",
        {"status": "continued", "continued_to": (timezone.now() + timedelta(days=50)).isoformat()},
    )
    assert moved.json()["continued_to_id"] is not None
    bad = post(attorney, f"{API}/events/{event['id']}/outcome", {"status": "held"})
    assert bad.status_code == 409
    party = post(
        attorney,
        f"{API}/cases/{case.pk}/parties",
        {"role": "witness", "first_name": "Ola", "last_name": "Nordmann"},
    ).json()
    removed = post(attorney, f"{API}/parties/{party['id']}/remove", {"reason": "Duplicate"})
    assert removed.status_code == 200
    assert patch(attorney, f"{API}/parties/{party['id']}", {"role": "victim"}).status_code == 404
    closed = post(attorney, f"{API}/cases/{case.pk}/close", {"disposition": "dismissed"})
    assert closed.json()["status"] == "closed"
    assert (
        post(attorney, f"{API}/cases/{case.pk}/close", {"disposition": "dismissed"}).status_code
        == 409
    )
    reopened = post(attorney, f"{API}/cases/{case.pk}/reopen", {"reason": "Remand"})
    assert reopened.json()["status"] == "open"


def test_off_team_writes_are_refused(case, office):
    charge = Charge.objects.get(case=case)
    assert (
        patch(as_(office.other_attorney), f"{API}/charges/{charge.pk}", {"degree": "x"}).status_code
        == 403
    )
    assert (
        patch(as_(office.prosecutor), f"{API}/charges/{charge.pk}", {"degree": "x"}).status_code
        == 403
    )
    assert (
        patch(
            as_(office.defender_attorney), f"{API}/charges/{charge.pk}", {"counts": 0}
        ).status_code
        == 422
    )


def test_conflict_decisions_over_the_api(case, office):
    from datetime import date

    from accord.cases.models import current_hits
    from accord.cases.tests.conftest import open_case_for

    other = new_client(office, first="Dana", last="Smith", dob=date(1980, 1, 2))
    second = open_case_for(
        office,
        other,
        number="2025-CF-9",
        parties=[
            {
                "role": "victim",
                "first_name": "Bill",
                "last_name": "Harper",
                "date_of_birth": "1990-03-04",
            }
        ],
    )
    hit = current_hits(second).exclude(record=other.person).get()
    url = f"{API}/cases/{second.pk}/conflicts/{hit.pk}/decision"
    refused = post(as_(office.defender_attorney), url, {"decision": "cleared"})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "note", "reason": "required to clear"}]
    decided = post(as_(office.defender_attorney), url, {"decision": "confirmed"})
    assert decided.json()["decision"] == "confirmed"
    detail = as_(office.defender_attorney).get(f"{API}/cases/{second.pk}").json()
    assert detail["conflict"]["confirmed_conflict"] is True
    # A hit of another case answers 404 through this one.
    assert (
        post(
            as_(office.defender_attorney),
            f"{API}/cases/{case.pk}/conflicts/{hit.pk}/decision",
            {"decision": "flagged"},
        ).status_code
        == 404
    )


def test_documents_over_the_api(case, office):
    from django.core.files.uploadedfile import SimpleUploadedFile

    social_worker = as_(office.defender_social_worker)
    response = social_worker.post(
        f"{API}/cases/{case.pk}/documents",
        {
            "file": SimpleUploadedFile("memo.txt", b"Witness list, draft 1\n"),
            "description": "Draft",
        },
    )
    assert response.status_code == 201
    document = response.json()
    assert document["content_type"] == "text/plain"
    content = social_worker.get(f"{API}/documents/{document['id']}/content")
    assert content.content == b"Witness list, draft 1\n"
    assert AuditEvent.objects.filter(action="cases.document_downloaded").count() == 1
    refused = social_worker.post(
        f"{API}/cases/{case.pk}/documents",
        {"file": SimpleUploadedFile("x.exe", b"MZ\x90\x00binary")},
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "file"


def test_the_calendar_and_its_feed_over_the_api(case, office):
    actions.schedule_event(
        case,
        actor=actor(office.defender_attorney),
        kind="pretrial",
        starts_at=timezone.now() + timedelta(days=2),
        courtroom="1A",
    )
    attorney = as_(office.defender_attorney)
    events = attorney.get(f"{API}/calendar", {"days": 7}).json()
    assert [e["case_number"] for e in events] == [case.number]
    assert attorney.get(f"{API}/calendar", {"days": 99}).status_code == 422
    assert as_(office.other_attorney).get(f"{API}/calendar").json() == []
    feed = post(attorney, f"{API}/calendar/feed", {}).json()
    path = feed["url"].split("testserver", 1)[1]
    ics = as_(None).get(path)
    assert ics.status_code == 200
    assert ics["Content-Type"].startswith("text/calendar")
    assert "SUMMARY:Pretrial conference · " + case.number in ics.content.decode()
    assert AuditEvent.objects.filter(action="cases.calendar_feed_read").count() == 1
    # A new address revokes the old one; deleting revokes the new one.
    newer = post(attorney, f"{API}/calendar/feed", {}).json()
    assert as_(None).get(path).status_code == 404
    assert attorney.delete(f"{API}/calendar/feed").status_code == 204
    assert as_(None).get(newer["url"].split("testserver", 1)[1]).status_code == 404
    assert as_(None).get(f"{API}/calendar/feeds/guess.ics").status_code == 404


def test_a_feed_stops_when_its_owner_is_disabled(case, office):
    from accord.accounts.actions import disable_account
    from accord.core.actors import SYSTEM

    feed = post(as_(office.defender_attorney), f"{API}/calendar/feed", {}).json()
    path = feed["url"].split("testserver", 1)[1]
    disable_account(office.defender_attorney, actor=SYSTEM)
    assert as_(None).get(path).status_code == 404


def test_ticklers_and_rules_over_the_api(case, office):
    supervisor = as_(office.defender_supervisor)
    rule = post(
        supervisor,
        f"{API}/tickler-rules",
        {
            "trigger": "charge_disposed",
            "value": "convicted",
            "offset_days": 30,
            "label": "Notice of appeal",
        },
    )
    assert rule.status_code == 201
    assert (
        post(
            as_(office.defender_attorney),
            f"{API}/tickler-rules",
            {"trigger": "case_opened", "offset_days": 1, "label": "x"},
        ).status_code
        == 403
    )
    bad = post(
        supervisor,
        f"{API}/tickler-rules",
        {"trigger": "case_opened", "value": "x", "offset_days": 1, "label": ""},
    )
    assert {e["field"] for e in bad.json()["errors"]} == {"value", "label"}
    charge = Charge.objects.get(case=case)
    patch(
        as_(office.defender_attorney),
        f"{API}/charges/{charge.pk}",
        {"disposition": "convicted_trial"},
    )
    mine = as_(office.defender_attorney).get(f"{API}/ticklers").json()["results"]
    assert [t["label"] for t in mine] == ["Notice of appeal"]
    done = post(
        as_(office.defender_attorney), f"{API}/ticklers/{mine[0]['id']}/complete", {"note": "Filed"}
    )
    assert done.json()["status"] == "completed"
    assert Tickler.objects.get().closed_by == "defender_attorney"


def test_the_case_list_endpoint_answers_in_a_bounded_number_of_queries(
    office, django_assert_max_num_queries
):
    from accord.cases.tests.conftest import open_case_for

    for n in range(12):
        client = new_client(office, first=f"Client{n}", last="Many")
        open_case_for(office, client, number=f"2025-CF-{n:04d}", parties=[])
    attorney = as_(office.defender_attorney)
    attorney.get(f"{API}/cases")
    with django_assert_max_num_queries(14):
        page = attorney.get(f"{API}/cases", {"page_size": 5}).json()
    assert len(page["results"]) == 5
    following = attorney.get(page["next"]).json()
    assert {c["id"] for c in following["results"]}.isdisjoint(c["id"] for c in page["results"])


def test_every_write_is_refused_to_those_off_the_team(case, office):
    """Each write endpoint, with a valid body: 401 anonymous, 403 to other agencies and
    other defender roles, 403 to case staff off the case's team (404 where the object
    itself is privileged and out of their sight)."""
    note = actions.write_note(case, actor=actor(office.defender_attorney), text="x")
    event = actions.schedule_event(
        case,
        actor=actor(office.defender_attorney),
        kind="motion",
        starts_at=timezone.now() + timedelta(days=5),
    )
    custody = actions.record_custody(
        case.client,
        actor=actor(office.defender_attorney),
        in_custody_since=timezone.localdate(),
        facility="Jail",
    )
    tickler = actions.add_tickler(
        case, actor=actor(office.defender_attorney), label="x", due_on=timezone.localdate()
    )
    party = Party.objects.get(case=case)
    charge = Charge.objects.get(case=case)
    team_row = case.assignments.first()
    soon = (timezone.now() + timedelta(days=3)).isoformat()
    writes = [
        ("PATCH", f"{API}/clients/{case.client_id}", {"middle_name": "Q"}),
        (
            "POST",
            f"{API}/clients/{case.client_id}/custody",
            {"in_custody_since": str(timezone.localdate()), "facility": "Jail"},
        ),
        ("POST", f"{API}/custody/{custody.pk}/release", {"released_on": str(timezone.localdate())}),
        ("PATCH", f"{API}/cases/{case.pk}", {"number": "2025-CF-X"}),
        ("POST", f"{API}/cases/{case.pk}/close", {"disposition": "dismissed"}),
        (
            "POST",
            f"{API}/cases/{case.pk}/charges",
            {"statute": "1", "description": "x", "level": "felony"},
        ),
        ("PATCH", f"{API}/charges/{charge.pk}", {"degree": "x"}),
        ("POST", f"{API}/cases/{case.pk}/events", {"kind": "trial", "starts_at": soon}),
        ("PATCH", f"{API}/events/{event.pk}", {"courtroom": "9Z"}),
        ("POST", f"{API}/events/{event.pk}/outcome", {"status": "cancelled"}),
        (
            "POST",
            f"{API}/cases/{case.pk}/parties",
            {"role": "witness", "first_name": "A", "last_name": "B"},
        ),
        ("PATCH", f"{API}/parties/{party.pk}", {"first_name": "C"}),
        ("POST", f"{API}/parties/{party.pk}/remove", {"reason": "x"}),
        (
            "POST",
            f"{API}/cases/{case.pk}/team",
            {"staff_id": office.defender_investigator.staff.pk, "role": "investigator"},
        ),
        ("POST", f"{API}/team/{team_row.pk}/end", {}),
        ("POST", f"{API}/cases/{case.pk}/conflicts/recheck", {}),
        ("POST", f"{API}/cases/{case.pk}/notes", {"text": "x"}),
        ("POST", f"{API}/cases/{case.pk}/ticklers", {"label": "x", "due_on": "2030-01-01"}),
        ("POST", f"{API}/ticklers/{tickler.pk}/complete", {}),
        ("POST", f"{API}/ticklers/{tickler.pk}/dismiss", {"note": "x"}),
    ]
    expected = api_matrix(team=None, off_team=403)
    for persona in ("defender_attorney", "defender_social_worker", "defender_supervisor"):
        expected.pop(persona)
    clients = {p: as_(None if p is None else office.people[p]) for p in expected}
    failures = []
    for method, url, body in writes:
        for persona, status in expected.items():
            response = clients[persona].generic(
                method, url, json.dumps(body), content_type="application/json"
            )
            if response.status_code != status:
                failures.append(f"{method} {url} as {persona}: {response.status_code}")
    note_url = f"{API}/notes/{note.pk}"
    for persona, status in expected.items():
        wanted = (
            {403: 404}.get(status, status)
            if persona in ("other_attorney", "defender_investigator")
            else status
        )
        response = clients[persona].patch(
            note_url, json.dumps({"text": "y"}), content_type="application/json"
        )
        if response.status_code != wanted:
            failures.append(f"PATCH {note_url} as {persona}: {response.status_code}")
    assert not failures, "\n".join(failures)
    assert Party.objects.present().filter(case=case).exists()
    assert Case.objects.get(pk=case.pk).status == "open"
