"""Privileged notes, work product and documents: written, read and re-sealed only here.

Each text and file is sealed with ``accord.core.crypto`` (AES-256-GCM under a fresh data
key, wrapped by the current ``ACCORD_FIELD_KEYS`` key) and bound to its row; only the case's
assigned team and the office's supervisors open them (``access.restrict_privileged``).
Opening a document is audited; a note's text never appears in the audit log.
"""

from __future__ import annotations

import hashlib

from django.utils import timezone

from accord.audit.chain import append as audit
from accord.audit.codes import AuditAction, Outcome
from accord.cases.guards import require_privileged_change, require_visible
from accord.cases.models import Case, CaseNote, Document, DocumentContent, NoteKind
from accord.cases.privileged import files
from accord.cases.validation import Errors, choice, fail, long_text, text
from accord.core import crypto
from accord.core.actions import action
from accord.core.actors import Actor
from accord.core.errors import InvalidInput, NotFound, PermissionDenied

MAX_NOTE_CHARS = 20_000


def _clean_note(value: str, errors: Errors) -> str:
    return long_text(value, "text", MAX_NOTE_CHARS, errors, required=True)


@action
def write_note(case: Case, *, actor: Actor, text: str, kind: str = NoteKind.NOTE) -> CaseNote:
    """Write a privileged note or work product on a case (its team or a supervisor)."""
    require_privileged_change(case, actor)
    errors: Errors = []
    body = _clean_note(text, errors)
    cleaned_kind = choice(kind, "kind", NoteKind.values, errors)
    fail("The note is not valid.", errors)
    note = CaseNote(
        case=case,
        kind=cleaned_kind,
        author_id=actor.user_id,
        author_label=actor.label[:150],
    )
    note.seal(body)
    note.save()
    # The audit log says that a note was written, never what it says.
    audit(
        actor,
        AuditAction.NOTE_WRITTEN,
        obj=note,
        agency_id=case.agency_id,
        details={"case": case.pk, "kind": cleaned_kind, "length": len(body)},
    )
    return note


@action
def edit_note(note: CaseNote, *, actor: Actor, text: str) -> CaseNote:
    """Its author corrects a note, while still on the case's team (or a supervisor)."""
    note = CaseNote.objects.select_for_update().select_related("case").get(pk=note.pk)
    if not actor.is_system and not CaseNote.objects.visible_to(actor).filter(pk=note.pk).exists():
        raise NotFound(f"No note {note.pk}.")
    require_privileged_change(note.case, actor)
    if not actor.is_system and note.author_id != actor.user_id:
        raise PermissionDenied("Only the author of a note edits it.")
    errors: Errors = []
    body = _clean_note(text, errors)
    fail("The note is not valid.", errors)
    note.seal(body)
    note.edited_at = timezone.now()
    note.save(update_fields=["sealed_text", "edited_at"])
    audit(
        actor,
        AuditAction.NOTE_EDITED,
        obj=note,
        agency_id=note.case.agency_id,
        details={"case": note.case_id, "length": len(body)},
    )
    return note


def _check_file(filename: str, content: bytes, errors: Errors) -> tuple[str, str]:
    name = files.safe_filename(filename or "")
    if not content:
        errors.append({"field": "file", "reason": "the file is empty"})
        return name, ""
    if len(content) > files.max_bytes():
        errors.append(
            {"field": "file", "reason": f"larger than {files.max_bytes() // (1024 * 1024)} MiB"}
        )
        return name, ""
    try:
        return name, files.sniff(content)
    except files.FileRefused as exc:
        errors.append({"field": "file", "reason": exc.reason})
        return name, ""


@action
def upload_document(
    case: Case, *, actor: Actor, filename: str, content: bytes, description: str = ""
) -> Document:
    """Store a document of a case, sealed, after its type (from its bytes), its size and
    the configured virus scanner accept it. A scanner refusal raises
    :class:`files.FileRefused`; :func:`submit_document` records it."""
    require_privileged_change(case, actor)
    errors: Errors = []
    name, kind = _check_file(filename, content, errors)
    about = text(description, "description", 300, errors)
    fail("The document is not accepted.", errors)
    verdict = files.scan(content, name)
    document = Document(
        case=case,
        filename=name,
        description=about,
        content_type=kind,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        scan=verdict,
        uploaded_by_id=actor.user_id,
        uploaded_by_label=actor.label[:150],
    )
    document.save()
    DocumentContent.objects.create(
        document=document, sealed=crypto.encrypt(content, document.aad())
    )
    audit(
        actor,
        AuditAction.DOCUMENT_UPLOADED,
        obj=document,
        agency_id=case.agency_id,
        details={
            "case": case.pk,
            "content_type": kind,
            "size": document.size,
            "sha256": document.sha256,
            "scan": verdict,
        },
    )
    return document


@action
def note_refused_document(case: Case, *, actor: Actor, filename: str, reason: str) -> None:
    """Record that the virus scanner refused a file (nothing of it is stored)."""
    require_privileged_change(case, actor)
    audit(
        actor,
        AuditAction.DOCUMENT_REFUSED,
        obj=case,
        outcome=Outcome.DENIED,
        agency_id=case.agency_id,
        details={"filename": files.safe_filename(filename), "reason": reason[:200]},
    )


def submit_document(
    case: Case, *, actor: Actor, filename: str, content: bytes, description: str = ""
) -> Document:
    """Upload a document; when the scanner refuses it, the refusal is audited (in its own
    transaction, since the upload's rolled back) and the caller gets a 422 on ``file``."""
    try:
        return upload_document(
            case, actor=actor, filename=filename, content=content, description=description
        )
    except files.FileRefused as exc:
        note_refused_document(case, actor=actor, filename=filename, reason=exc.reason)
        raise InvalidInput(
            "The document was refused by the virus scanner.",
            errors=[{"field": "file", "reason": exc.reason}],
        ) from exc


@action
def open_document(document: Document, *, actor: Actor) -> bytes:
    """The bytes of a document for its team or a supervisor, the reading audited."""
    require_visible(document.case, actor)
    if (
        not actor.is_system
        and not Document.objects.visible_to(actor).filter(pk=document.pk).exists()
    ):
        raise NotFound(f"No document {document.pk}.")
    sealed = DocumentContent.objects.get(document=document).sealed
    content = crypto.decrypt(bytes(sealed), document.aad())
    if hashlib.sha256(content).hexdigest() != document.sha256:
        raise crypto.DecryptionFailed("content does not match its recorded digest")
    audit(
        actor,
        AuditAction.DOCUMENT_DOWNLOADED,
        obj=document,
        agency_id=document.case.agency_id,
        details={"case": document.case_id, "sha256": document.sha256},
    )
    return content


@crypto.register_rotation
@action
def reseal_case_material(*, actor: Actor) -> int:
    """Re-seal notes and documents still sealed under an older field key (``accord keys
    rotate``)."""
    notes = 0
    for note in CaseNote.objects.all().iterator(chunk_size=500):
        if crypto.needs_rotation(bytes(note.sealed_text)):
            note.seal(note.text)
            note.save(update_fields=["sealed_text"])
            notes += 1
    documents = 0
    for content in DocumentContent.objects.select_related("document").iterator(chunk_size=50):
        if crypto.needs_rotation(bytes(content.sealed)):
            aad = content.document.aad()
            content.sealed = crypto.encrypt(crypto.decrypt(bytes(content.sealed), aad), aad)
            content.save(update_fields=["sealed"])
            documents += 1
    if notes or documents:
        audit(
            actor,
            AuditAction.CASE_MATERIAL_RESEALED,
            details={"notes": notes, "documents": documents, "key": crypto.keyring()[0]},
        )
    return notes + documents
