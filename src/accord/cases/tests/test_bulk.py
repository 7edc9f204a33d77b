"""Loading a caseload in bulk, the demo caseload, and the small pieces: case types from the
reference file, iCalendar text, file sniffing, and `accord keys rotate`."""

from __future__ import annotations

import base64
from datetime import date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accord.audit.models import AuditEvent
from accord.cases.bulk.actions import (
    CaseIn,
    ChargeIn,
    ClientIn,
    EventIn,
    PartyIn,
    PersonIn,
    TeamIn,
    load_caseload,
)
from accord.cases.models import Case, CaseType, Client, CourtEvent, Tickler
from accord.cases.models.reference import read_standards
from accord.cases.privileged.files import FileRefused, safe_filename, sniff
from accord.core import crypto
from accord.core.actors import SYSTEM
from accord.core.errors import InvalidInput, PermissionDenied
from accord.core.testing import profile_of
from accord.people.models import PersonRecord, PersonRole

pytestmark = pytest.mark.django_db


def test_case_types_are_the_reference_files_rows():
    rows = read_standards()
    assert CaseType.objects.count() == len(rows) == 16
    lwop = CaseType.objects.get(standard="NPDWS-2023", code="felony_high_lwop")
    assert float(lwop.hours_per_case) == 286.0
    assert lwop.label == "Felony high LWOP (life without parole)"


def _batch(office, count=3):
    court = office.agencies["court"].pk
    felony = CaseType.objects.get(code="felony_mid").pk
    attorney = profile_of(office.defender_attorney).pk
    today = timezone.localdate()
    return [
        ClientIn(
            number=f"HC-{n:04d}",
            person=PersonIn(f"First{n}", f"Last{n}", date_of_birth=date(1980, 1, n + 1)),
            cases=[
                CaseIn(
                    number=f"2025-CF-{n:04d}",
                    court_id=court,
                    case_type_id=felony,
                    opened_on=today - timedelta(days=20),
                    charges=[ChargeIn("HCS 1", "Theft", "felony")],
                    events=[
                        EventIn("arraignment", timezone.now() - timedelta(days=5), "1A", "held"),
                        EventIn("trial", timezone.now() + timedelta(days=30), "1A"),
                    ],
                    parties=[PartyIn("victim", PersonIn("Vic", f"Tim{n}"))],
                    team=[TeamIn(attorney, "attorney", today - timedelta(days=20))],
                )
            ],
        )
        for n in range(count)
    ]


def test_a_caseload_loads_in_one_batch_with_one_audit_event(office):
    from accord.cases.actions import add_standard_rules

    add_standard_rules(office.agencies["defender"], actor=SYSTEM)
    before = AuditEvent.objects.count()
    result = load_caseload(office.agencies["defender"], _batch(office), actor=SYSTEM, link=False)
    assert (result.clients, result.cases, result.events, result.parties) == (3, 3, 6, 3)
    assert Case.objects.assigned_to(office.defender_attorney.pk).count() == 3
    assert PersonRole.objects.filter(role="client", current=True).count() == 3
    assert PersonRole.objects.filter(role="victim").count() == 3
    # Ticklers the rules would have set: discovery after the held arraignment, the witness
    # list before trial (the first interview, due 17 days ago, was the old system's).
    assert set(Tickler.objects.values_list("label", flat=True)) == {
        "Discovery request due 14 days after arraignment (check your local rule)",
        "Witness list and motions in limine 14 days before trial",
    }
    actions = list(
        AuditEvent.objects.filter(seq__gt=before).order_by("seq").values_list("action", flat=True)
    )
    assert actions == ["people.records_imported", "cases.cases_loaded"]


def test_a_bad_batch_names_its_rows_and_loads_nothing(office):
    batch = _batch(office)
    batch[1].cases[0].court_id = office.agencies["jail"].pk
    batch[2].number = batch[0].number
    batch[2].cases[0].team[0].role = "investigator"
    with pytest.raises(InvalidInput) as refused:
        load_caseload(office.agencies["defender"], batch, actor=SYSTEM, link=False)
    fields = {e["field"] for e in refused.value.errors}
    assert {
        "clients.1.cases.0.court_id",
        "clients.2.number",
        "clients.2.cases.0.team.0.staff_id",
    } <= fields
    assert not Client.objects.exists()
    assert not PersonRecord.objects.exists()


def test_a_caseload_is_loaded_by_the_offices_attorneys_only(office):
    from accord.cases.tests.conftest import actor

    with pytest.raises(PermissionDenied):
        load_caseload(
            office.agencies["defender"], _batch(office), actor=actor(office.defender_social_worker)
        )


def test_the_demo_caseload_plants_conflicts_its_intakes_find(office, monkeypatch):
    from accord.cases.models import current_hits
    from accord.demo import cases as demo
    from accord.directory.actions import add_staff

    monkeypatch.setattr(demo, "CLIENTS", 40)
    monkeypatch.setattr(demo, "EXTRA_ATTORNEYS", 1)
    agencies = {"HCPD": office.agencies["defender"], "HCCC": office.agencies["court"]}
    for username, roles in (("dana.attorney", ("attorney",)),):
        add_staff(
            office.agencies["defender"],
            actor=SYSTEM,
            username=username,
            first_name="Dana",
            last_name="Whitfield",
            email="d@x.invalid",
            roles=roles,
        )
    made = demo.seed_cases(agencies, actor=SYSTEM)
    assert made["clients"] == 40
    intakes = Case.objects.filter(number__contains="-9000")
    assert intakes.count() == 3
    unresolved = [h for case in intakes for h in current_hits(case) if h.decision == "open"]
    matched = {h.matched_name for h in unresolved}
    assert any("delgado" in m for m in matched)
    assert any("okonkwo" in m for m in matched)
    assert demo.seed_cases(agencies, actor=SYSTEM) == {"clients": 0, "cases": 0}


def test_ical_escapes_and_folds():
    from accord.cases.calendar.ical import _escape, _fold

    assert _escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    long = "DESCRIPTION:" + "é" * 80
    folded = _fold(long)
    assert all(len(line.encode()) <= 75 for line in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == long


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"%PDF-1.7 ...", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0 jfif", "image/jpeg"),
        (b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio/wav"),
        ("Zeugenaussage: Müller\n".encode(), "text/plain"),
    ],
)
def test_it_knows_a_file_by_its_bytes(content, kind):
    assert sniff(content) == kind


def test_an_archive_that_is_not_an_office_document_is_refused():
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.exe", b"MZ")
    with pytest.raises(FileRefused):
        sniff(buffer.getvalue())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("word/document.xml", b"<w:document/>")
    assert sniff(buffer.getvalue()).endswith("wordprocessingml.document")


def test_uploaded_names_lose_their_paths_and_odd_characters():
    assert safe_filename("C:\\Users\\x\\report (1).pdf") == "report (1).pdf"
    assert safe_filename('a"; rm -rf;.pdf') == "a_ rm -rf_.pdf"
    assert safe_filename("...") == "document"


def test_keys_rotate_reseals_case_material(case, office, settings, capsys):
    from accord.cases.actions import write_note
    from accord.cases.models import CaseNote
    from accord.cases.tests.conftest import actor

    note = write_note(case, actor=actor(office.defender_attorney), text="sealed")
    new_key = "t9:" + base64.urlsafe_b64encode(b"\x09" * 32).decode()
    settings.FIELD_KEYS = f"{new_key},{settings.FIELD_KEYS}"
    crypto.keyring.cache_clear()
    try:
        call_command("keys", "rotate")
        assert "reseal_case_material: 1 re-sealed" in capsys.readouterr().out
        assert crypto.key_id_of(bytes(CaseNote.objects.get(pk=note.pk).sealed_text)) == "t9"
    finally:
        crypto.keyring.cache_clear()


def test_events_of_a_loaded_case_are_in_the_calendar(office):
    load_caseload(office.agencies["defender"], _batch(office, 1), actor=SYSTEM, link=False)
    assert CourtEvent.objects.filter(starts_at__gt=timezone.now()).count() == 1
    assert isinstance(CourtEvent.objects.earliest("pk").starts_at, datetime)


def test_the_cases_command_adds_rules_and_rechecks_open_cases(office, capsys):
    from accord.cases.models import CaseConflictCheck, TicklerRule

    load_caseload(office.agencies["defender"], _batch(office, 2), actor=SYSTEM, link=False)
    call_command("cases", "rules", "--agency", "TPD")
    assert TicklerRule.objects.count() == 5
    call_command("cases", "recheck", "--agency", "TPD")
    assert "2 open case(s) checked" in capsys.readouterr().out
    assert CaseConflictCheck.objects.filter(trigger="requested").count() == 2
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("cases", "rules", "--agency", "TCJ")
