"""The case pages: who may open each one (the permission matrix), forms that refuse bad
input field by field and save nothing, and bounded query counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from accord.audit.models import AuditEvent
from accord.cases import actions
from accord.cases.models import Case, Charge, CourtEvent, Document, Party, current_hits
from accord.cases.privileged.actions import submit_document
from accord.cases.tests.conftest import (
    TEAM,
    actor,
    check_many,
    matrix,
    new_client,
    open_case_for,
)
from accord.core.actors import SYSTEM
from accord.core.testing import as_

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def material(case, office):
    note = actions.write_note(case, actor=actor(office.defender_attorney), text="Alibi: sister")
    document = submit_document(
        case, actor=actor(office.defender_attorney), filename="r.pdf", content=PDF
    )
    return note, document


def test_the_case_list_and_case_page_are_for_the_defenders_case_staff(case, office):
    urls = (
        "/cases/",
        "/cases/?scope=office",
        f"/cases/{case.pk}/",
        "/cases/clients/",
        f"/cases/clients/{case.client_id}/",
        "/cases/ticklers/",
        "/cases/calendar/",
        "/cases/calendar/?view=month&scope=team",
    )
    check_many(office, "GET", urls, matrix(team=200, off_team=200))


def test_change_forms_are_for_the_team_and_supervisors(case, office):
    charge = Charge.objects.get(case=case)
    event = actions.schedule_event(
        case,
        actor=actor(office.defender_attorney),
        kind="pretrial",
        starts_at=timezone.now() + timedelta(days=9),
    )
    party = Party.objects.get(case=case)
    urls = [
        f"/cases/{case.pk}/{path}"
        for path in (
            "edit/",
            "close/",
            "charges/new/",
            "events/new/",
            "parties/new/",
            "team/new/",
            "ticklers/new/",
            "notes/new/",
            "documents/new/",
        )
    ] + [
        f"/cases/charges/{charge.pk}/",
        f"/cases/events/{event.pk}/",
        f"/cases/events/{event.pk}/outcome/",
        f"/cases/parties/{party.pk}/",
        f"/cases/clients/{case.client_id}/edit/",
        f"/cases/clients/{case.client_id}/custody/",
    ]
    check_many(office, "GET", urls, matrix(team=200, off_team=403))


def test_posts_of_other_agencies_and_off_team_staff_are_refused(case, office):
    charge = Charge.objects.get(case=case)
    party = Party.objects.get(case=case)
    urls = [
        f"/cases/{case.pk}/conflicts/recheck/",
        f"/cases/charges/{charge.pk}/",
        f"/cases/parties/{party.pk}/remove/",
    ]
    expected = matrix(team=200, off_team=403)
    for persona in (None, *TEAM):
        expected.pop(persona)
    check_many(office, "POST", urls, expected)
    assert Party.objects.present().filter(case=case).exists()


def test_privileged_material_reaches_the_team_only(case, office, material):
    note, document = material
    check_many(office, "GET", [f"/cases/documents/{document.pk}/"], matrix(team=200, off_team=404))
    # Only its author edits a note; others of the team are refused, the rest never see it.
    check_many(
        office,
        "GET",
        [f"/cases/notes/{note.pk}/"],
        matrix(team=403, off_team=404, defender_attorney=200),
    )
    page = as_(office.defender_social_worker).get(f"/cases/{case.pk}/").content.decode()
    assert "Alibi: sister" in page
    for persona in ("other_attorney", "defender_investigator"):
        page = as_(office.people[persona]).get(f"/cases/{case.pk}/").content.decode()
        assert "Alibi: sister" not in page
        assert "r.pdf" not in page
        assert "for this case&#x27;s team" in page or "for this case's team" in page


def test_a_document_download_is_an_attachment_and_audited(case, office, material):
    _note, document = material
    response = as_(office.defender_supervisor).get(f"/cases/documents/{document.pk}/")
    assert response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="r.pdf"'
    assert AuditEvent.objects.filter(
        action="cases.document_downloaded", actor_label="defender_supervisor"
    ).exists()


def test_opening_clients_and_cases_is_for_attorneys_and_supervisors(case, office):
    expected = matrix(team=200, off_team=200, defender_social_worker=403, defender_investigator=403)
    check_many(
        office, "GET", ["/cases/clients/new/", f"/cases/clients/{case.client_id}/open/"], expected
    )


def test_tickler_rules_are_for_supervisors_and_administrators(office):
    expected = matrix(team=403, off_team=403, defender_supervisor=200, defender_admin=200)
    check_many(office, "GET", ["/cases/rules/", "/cases/rules/new/"], expected)


def test_a_screened_supervisor_cannot_open_the_case(case, office):
    from accord.policy.actions import screen_staff

    screen_staff(
        office.defender_supervisor,
        actor=SYSTEM,
        client_key=case.client.number,
        reason="Represented the complaining witness",
    )
    client = as_(office.defender_supervisor)
    assert client.get(f"/cases/{case.pk}/").status_code == 404
    assert client.get(f"/cases/clients/{case.client_id}/").status_code == 404
    assert case.number not in client.get("/cases/?scope=office").content.decode()


def test_taking_on_a_client_and_opening_a_case_through_the_pages(office):
    client = as_(office.defender_attorney)
    response = client.post(
        "/cases/clients/new/",
        {
            "first_name": "Ana",
            "last_name": "Rivera",
            "date_of_birth": "1991-05-06",
            "aliases": "Annie Rivera",
        },
    )
    assert response.status_code == 302
    new = office.agencies["defender"]
    from accord.cases.models import CaseType, Client

    taken = Client.objects.get(agency=new, person__last_name="Rivera")
    assert taken.person.aliases.get().first_name == "Annie"
    response = client.post(
        f"/cases/clients/{taken.pk}/open/",
        {
            "number": "2025-CF-7",
            "court": office.agencies["court"].pk,
            "case_type": CaseType.objects.get(code="felony_low").pk,
            "opened_on": timezone.localdate().isoformat(),
            "statute": "HCS 1",
            "description": "Theft",
            "level": "felony",
            "degree": "",
            "attorney": "",
        },
    )
    assert response.status_code == 302
    case = Case.objects.get(number="2025-CF-7")
    assert response["Location"] == f"/cases/{case.pk}/"
    assert case.assignments.get().staff.user == office.defender_attorney
    assert case.checks.count() == 1


def test_a_form_refuses_bad_input_next_to_each_field_and_saves_nothing(case, office):
    client = as_(office.defender_attorney)
    response = client.post(
        f"/cases/{case.pk}/events/new/",
        {
            "kind": "trial",
            "starts_at": "not a time",
            "courtroom": "x" * 61,
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_starts_at-error"' in page
    assert 'id="id_courtroom-error"' in page
    assert not CourtEvent.objects.filter(case=case).exists()
    # The action's own refusal (a date outside the plausible range) shows on its field too.
    response = client.post(
        f"/cases/{case.pk}/events/new/",
        {
            "kind": "trial",
            "starts_at": "1900-01-01T09:00",
            "courtroom": "",
        },
    )
    assert 'id="id_starts_at-error"' in response.content.decode()
    assert "not a plausible date" in response.content.decode()
    assert not CourtEvent.objects.filter(case=case).exists()


def test_the_case_page_warns_of_hits_and_takes_decisions(case, office):
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
            },
        ],
    )
    page = as_(office.defender_attorney).get(f"/cases/{second.pk}/").content.decode()
    assert "conflict check hit waiting for a decision" in page
    assert "nickname" in page
    hit = current_hits(second).exclude(record=other.person).get()
    response = as_(office.defender_attorney).post(
        f"/cases/{second.pk}/conflicts/{hit.pk}/", {"decision": "confirmed", "note": ""}
    )
    assert response.status_code == 302
    page = as_(office.defender_attorney).get(f"/cases/{second.pk}/").content.decode()
    assert "this case goes to conflict counsel" in page
    listing = as_(office.defender_attorney).get("/cases/?conflict=conflict").content.decode()
    assert "2025-CF-9" in listing
    assert case.number not in listing


def test_a_social_worker_may_flag_but_not_clear_a_hit(case, office):
    other = new_client(office, first="Dana", last="Smith", dob=date(1980, 1, 2))
    second = open_case_for(
        office,
        other,
        number="2025-CF-9",
        parties=[
            {"role": "witness", "first_name": "William", "last_name": "Harper"},
        ],
    )
    actions.assign(
        second,
        office.defender_social_worker.staff,
        "social_worker",
        actor=actor(office.defender_supervisor),
    )
    hit = current_hits(second).filter(record=case.client.person).latest("pk")
    social_worker = as_(office.defender_social_worker)
    url = f"/cases/{second.pk}/conflicts/{hit.pk}/"
    assert social_worker.post(url, {"decision": "cleared", "note": "x"}).status_code == 403
    assert social_worker.post(url, {"decision": "flagged", "note": ""}).status_code == 302
    hit.refresh_from_db()
    assert hit.decision == "flagged"


def test_uploading_a_document_through_the_page(case, office):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = as_(office.defender_social_worker)
    response = client.post(
        f"/cases/{case.pk}/documents/new/",
        {
            "file": SimpleUploadedFile("evil.pdf", b"MZ\x90\x00 not a pdf"),
            "description": "",
        },
    )
    assert response.status_code == 200
    assert "This kind of file is not accepted" in response.content.decode()
    response = client.post(
        f"/cases/{case.pk}/documents/new/",
        {
            "file": SimpleUploadedFile("scan.pdf", PDF),
            "description": "Police report",
        },
    )
    assert response.status_code == 302
    assert Document.objects.get().description == "Police report"


def test_the_calendar_feed_address_is_shown_once_and_revocable(case, office):
    actions.schedule_event(
        case,
        actor=actor(office.defender_attorney),
        kind="trial",
        starts_at=timezone.now() + timedelta(days=3),
        courtroom="2A",
    )
    client = as_(office.defender_attorney)
    response = client.post("/cases/calendar/feed/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    url = response.context["url"]
    path = url.split("testserver", 1)[1]
    feed = as_(None).get(path)
    assert feed.status_code == 200
    body = feed.content.decode()
    assert "BEGIN:VCALENDAR" in body
    assert case.number in body
    assert "Harper" not in body  # no client name leaves in a feed
    assert client.post("/cases/calendar/feed/revoke/").status_code == 302
    assert as_(None).get(path).status_code == 404


def test_the_case_list_answers_in_a_bounded_number_of_queries(
    office, django_assert_max_num_queries
):
    for n in range(30):
        client = new_client(office, first=f"Client{n}", last="Many", dob=date(1980, 1, 1 + n % 28))
        opened = open_case_for(office, client, number=f"2025-CF-{n:04d}", parties=[])
        actions.schedule_event(
            opened,
            actor=actor(office.defender_attorney),
            kind="pretrial",
            starts_at=timezone.now() + timedelta(days=n + 1),
        )
    attorney = as_(office.defender_attorney)
    attorney.get("/cases/")
    with django_assert_max_num_queries(16):
        page = attorney.get("/cases/?sort=next")
    assert page.content.decode().count("2025-CF-") == 25


def test_the_client_page_answers_in_a_bounded_number_of_queries(
    office, django_assert_max_num_queries
):
    client = new_client(office)
    for n in range(8):
        opened = open_case_for(office, client, number=f"2025-CF-{n:04d}", parties=[])
        for day in range(5):
            actions.schedule_event(
                opened,
                actor=actor(office.defender_attorney),
                kind="motion",
                starts_at=timezone.now() + timedelta(days=day + 1),
            )
    attorney = as_(office.defender_attorney)
    attorney.get(f"/cases/clients/{client.pk}/")
    # 18 for the client's own records, 3 for what partners shared (their events, the policy
    # version, their client records), whatever the number of cases and events.
    with django_assert_max_num_queries(21):
        response = attorney.get(f"/cases/clients/{client.pk}/")
    assert response.content.decode().count("Motion hearing") == 40
    assert "Shared by partner agencies" in response.content.decode()


def test_the_case_page_answers_in_a_bounded_number_of_queries(
    case, office, material, django_assert_max_num_queries
):
    for day in range(10):
        actions.schedule_event(
            case,
            actor=actor(office.defender_attorney),
            kind="motion",
            starts_at=timezone.now() + timedelta(days=day + 1),
        )
    attorney = as_(office.defender_attorney)
    attorney.get(f"/cases/{case.pk}/")
    with django_assert_max_num_queries(24):
        attorney.get(f"/cases/{case.pk}/")


def test_the_home_page_shows_the_attorneys_cards(case, office):
    actions.add_tickler(
        case,
        actor=actor(office.defender_attorney),
        label="Call the DA",
        due_on=timezone.localdate() + timedelta(days=2),
    )
    page = as_(office.defender_attorney).get("/").content.decode()
    assert "Your open cases" in page
    assert "Your deadlines due within 7 days" in page
    assert "Your open cases" not in as_(office.prosecutor).get("/").content.decode()
