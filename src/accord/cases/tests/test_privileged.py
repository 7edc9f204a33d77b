"""Privileged notes and documents: sealed at rest, bound to their row, for the team only,
re-sealed by key rotation, downloads audited."""

from __future__ import annotations

import base64

import pytest
from django.db import connection

from accord.audit.models import AuditEvent
from accord.cases import actions
from accord.cases.models import CaseNote, Document, DocumentContent
from accord.cases.privileged.actions import submit_document
from accord.cases.tests.conftest import actor
from accord.core import crypto
from accord.core.actors import SYSTEM
from accord.core.errors import InvalidInput, NotFound, PermissionDenied

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_note_is_sealed_at_rest_and_opens_for_the_team(case, office):
    note = actions.write_note(
        case,
        actor=actor(office.defender_attorney),
        text="Client says he was at his sister's that night.",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT sealed_text FROM cases_casenote WHERE id = %s", [note.pk])
        stored = bytes(cursor.fetchone()[0])
    assert b"sister" not in stored
    assert CaseNote.objects.get(pk=note.pk).text.startswith("Client says")
    event = AuditEvent.objects.get(action="cases.note_written")
    assert "sister" not in str(event.details)


def test_a_sealed_note_copied_to_another_row_does_not_open(case, office):
    first = actions.write_note(case, actor=actor(office.defender_attorney), text="one")
    second = actions.write_note(case, actor=actor(office.defender_attorney), text="two")
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(bytes(first.sealed_text), second._aad())


def test_notes_are_visible_to_the_team_and_supervisors_only(case, office):
    actions.write_note(case, actor=actor(office.defender_attorney), text="privileged")
    for persona in ("defender_attorney", "defender_social_worker", "defender_supervisor"):
        assert CaseNote.objects.visible_to(actor(office.people[persona])).count() == 1, persona
    for persona in (
        "other_attorney",
        "defender_investigator",
        "defender_admin",
        "defender_auditor",
        "prosecutor",
        "jail_officer",
        "coordinator",
    ):
        assert CaseNote.objects.visible_to(actor(office.people[persona])).count() == 0, persona
    with pytest.raises(PermissionDenied):
        actions.write_note(case, actor=actor(office.other_attorney), text="x")


def test_an_ethical_screen_hides_the_case_from_a_supervisor(case, office):
    from accord.cases.models import Case
    from accord.policy.actions import screen_staff

    screen_staff(
        office.defender_supervisor,
        actor=SYSTEM,
        client_key=case.client.number,
        reason="Former prosecutor on this matter",
    )
    supervisor = actor(office.defender_supervisor)
    assert not Case.objects.visible_to(supervisor).filter(pk=case.pk).exists()
    with pytest.raises(NotFound):
        actions.write_note(case, actor=supervisor, text="x")


def test_only_its_author_edits_a_note(case, office):
    note = actions.write_note(case, actor=actor(office.defender_attorney), text="first")
    with pytest.raises(PermissionDenied):
        actions.edit_note(note, actor=actor(office.defender_social_worker), text="changed")
    edited = actions.edit_note(note, actor=actor(office.defender_attorney), text="second")
    assert edited.text == "second"
    assert edited.edited_at is not None


def test_a_document_is_sniffed_sealed_and_its_download_audited(case, office):
    document = submit_document(
        case,
        actor=actor(office.defender_attorney),
        filename="../../etc/police report.pdf",
        content=PDF,
    )
    assert document.content_type == "application/pdf"
    assert document.filename == "police report.pdf"
    assert document.scan == "not scanned"
    assert PDF not in bytes(DocumentContent.objects.get(document=document).sealed)
    assert actions.open_document(document, actor=actor(office.defender_social_worker)) == PDF
    assert AuditEvent.objects.filter(action="cases.document_downloaded").count() == 1
    with pytest.raises(NotFound):
        actions.open_document(document, actor=actor(office.other_attorney))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00", "This kind of file is not accepted"),
        (b"<html><script>alert(1)</script></html>", "This kind of file is not accepted"),
        (b"", "the file is empty"),
    ],
)
def test_it_refuses_what_is_not_a_document(case, office, content, reason):
    with pytest.raises(InvalidInput) as refused:
        submit_document(
            case, actor=actor(office.defender_attorney), filename="x.pdf", content=content
        )
    assert refused.value.errors[0]["field"] == "file"
    assert refused.value.errors[0]["reason"].startswith(reason)
    assert not Document.objects.exists()


def test_it_refuses_a_file_over_the_limit(case, office, settings):
    settings.CASES_DOCUMENT_MAX_BYTES = 10
    with pytest.raises(InvalidInput) as refused:
        submit_document(case, actor=actor(office.defender_attorney), filename="a.pdf", content=PDF)
    assert refused.value.errors[0]["field"] == "file"


def refuse_everything(content, filename):
    from accord.cases.privileged.files import FileRefused

    raise FileRefused("Eicar-Test-Signature", scanner=True)


def approve_everything(content, filename):
    return "clean: test scanner"


def test_the_virus_scan_hook_records_its_verdict(case, office, settings):
    settings.CASES_VIRUS_SCANNER = f"{__name__}.approve_everything"
    document = submit_document(
        case, actor=actor(office.defender_attorney), filename="a.pdf", content=PDF
    )
    assert document.scan == "clean: test scanner"
    settings.CASES_VIRUS_SCANNER = f"{__name__}.refuse_everything"
    with pytest.raises(InvalidInput) as refused:
        submit_document(case, actor=actor(office.defender_attorney), filename="b.pdf", content=PDF)
    assert refused.value.errors == [{"field": "file", "reason": "Eicar-Test-Signature"}]
    assert Document.objects.count() == 1
    # The refusal is on the record even though nothing was stored.
    assert AuditEvent.objects.filter(action="cases.document_refused", outcome="denied").exists()


def test_key_rotation_reseals_notes_and_documents(case, office, settings):
    note = actions.write_note(case, actor=actor(office.defender_attorney), text="rotate me")
    document = submit_document(
        case, actor=actor(office.defender_attorney), filename="a.pdf", content=PDF
    )
    new_key = "t2:" + base64.urlsafe_b64encode(b"\x03" * 32).decode()
    settings.FIELD_KEYS = f"{new_key},{settings.FIELD_KEYS}"
    crypto.keyring.cache_clear()
    try:
        assert crypto.needs_rotation(bytes(CaseNote.objects.get(pk=note.pk).sealed_text))
        assert actions.reseal_case_material(actor=SYSTEM) == 2
        assert crypto.key_id_of(bytes(CaseNote.objects.get(pk=note.pk).sealed_text)) == "t2"
        assert CaseNote.objects.get(pk=note.pk).text == "rotate me"
        assert actions.open_document(document, actor=SYSTEM) == PDF
        assert actions.reseal_case_material.__name__ in {r.__name__ for r in crypto.ROTATIONS}
    finally:
        crypto.keyring.cache_clear()
