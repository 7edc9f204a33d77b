"""Privileged notes and documents of a case, and its conflict check hits, over the API.

Notes and documents answer only to people on the case's team and the office's supervisors
(a token is refused, whatever its scopes); their text is never in a list of anything else,
never searchable, and never leaves the defender (``access.restrict_privileged``)."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Form
from ninja.files import UploadedFile

from accord.cases import actions
from accord.cases.access import may_write_privileged
from accord.cases.api import router
from accord.cases.api.common import person, reader, writer
from accord.cases.api.schemas import (
    CaseDocumentOut,
    CaseHitDecisionIn,
    CaseHitOut,
    CaseNoteIn,
    CaseNoteOut,
    CaseNotePatch,
)
from accord.cases.guards import is_assigned
from accord.cases.models import Case, CaseNote, Document, current_hits, hits_visible_to
from accord.cases.privileged.actions import submit_document
from accord.cases.privileged.files import max_bytes
from accord.core.access import access_object
from accord.core.actors import Actor
from accord.core.api import ERRORS
from accord.core.errors import InvalidInput, NotFound, PermissionDenied


def _team_case(actor: Actor, case_id: int) -> Case:
    case: Case = access_object(Case.objects.select_related("agency", "court"), actor, case_id)
    if not may_write_privileged(actor, case.agency_id, is_assigned(case, actor)):
        raise PermissionDenied(
            "Privileged material is for the case's team and the office's supervisors."
        )
    return case


@router.get("/cases/{case_id}/notes", response={200: list[CaseNoteOut], **ERRORS})
def note_list(request: HttpRequest, case_id: int) -> Any:
    """The case's privileged notes and work product, newest first (its team and
    supervisors only)."""
    actor = person(request)
    case = _team_case(actor, case_id)
    return list(CaseNote.objects.visible_to(actor).filter(case=case))


@router.post("/cases/{case_id}/notes", response={201: CaseNoteOut, **ERRORS})
def note_create(request: HttpRequest, case_id: int, payload: CaseNoteIn) -> Any:
    actor = person(request)
    case = _team_case(actor, case_id)
    return 201, actions.write_note(case, actor=actor, text=payload.text, kind=payload.kind)


@router.patch("/notes/{note_id}", response={200: CaseNoteOut, **ERRORS})
def note_update(request: HttpRequest, note_id: int, payload: CaseNotePatch) -> Any:
    """Its author corrects a note."""
    actor = person(request)
    note = access_object(CaseNote.objects.select_related("case"), actor, note_id)
    return actions.edit_note(note, actor=actor, text=payload.text)


@router.get("/cases/{case_id}/documents", response={200: list[CaseDocumentOut], **ERRORS})
def document_list(request: HttpRequest, case_id: int) -> Any:
    actor = person(request)
    case = _team_case(actor, case_id)
    return list(Document.objects.visible_to(actor).filter(case=case))


@router.post("/cases/{case_id}/documents", response={201: CaseDocumentOut, **ERRORS})
def document_create(
    request: HttpRequest,
    case_id: int,
    file: File[UploadedFile],
    description: Form[str] = "",
) -> Any:
    """Upload a document (multipart ``file``): its type is judged from its bytes, its size
    limited, the configured virus scanner consulted; it is stored sealed."""
    actor = person(request)
    case = _team_case(actor, case_id)
    if file.size is not None and file.size > max_bytes():
        raise InvalidInput(
            "The document is not accepted.",
            errors=[{"field": "file", "reason": f"larger than {max_bytes() // (1024 * 1024)} MiB"}],
        )
    content = file.read()
    return 201, submit_document(
        case, actor=actor, filename=file.name or "", content=content, description=description
    )


@router.get(
    "/documents/{document_id}/content",
    response={200: None, **ERRORS},
    openapi_extra={
        "responses": {"200": {"description": "The document's bytes, as an attachment (audited)"}}
    },
)
def document_content(request: HttpRequest, document_id: int) -> Any:
    """Download a document. Every download is recorded in the audit log."""
    from accord.cases.views.privileged import attachment

    actor = person(request)
    document = access_object(Document.objects.select_related("case"), actor, document_id)
    content = actions.open_document(document, actor=actor)
    response: HttpResponse = attachment(content, document)
    return response


# --- conflict checks -------------------------------------------------------------------------


def _hits(actor: Actor, case: Case) -> Any:
    return (
        hits_visible_to(actor, case.pk)
        .select_related("candidate__case_subject")
        .order_by("candidate__row", "-score", "pk")
    )


@router.get("/cases/{case_id}/conflicts", response={200: list[CaseHitOut], **ERRORS})
def conflict_hits(request: HttpRequest, case_id: int) -> Any:
    """The hits that count for the case (the latest check of the client and each party):
    who the office knows that may be them, with score, explanation and decision."""
    actor = reader(request)
    case = access_object(Case.objects, actor, case_id)
    return list(_hits(actor, case))


@router.post("/cases/{case_id}/conflicts/recheck", response={200: list[CaseHitOut], **ERRORS})
def conflict_recheck(request: HttpRequest, case_id: int) -> Any:
    """Check the client and every party again."""
    actor = writer(request)
    case = access_object(
        Case.objects.select_related("client__person", "agency", "court"), actor, case_id
    )
    actions.recheck_conflicts(case, actor=actor)
    return list(_hits(actor, case))


@router.post("/cases/{case_id}/conflicts/{hit_id}/decision", response={200: CaseHitOut, **ERRORS})
def conflict_decide(
    request: HttpRequest, case_id: int, hit_id: int, payload: CaseHitDecisionIn
) -> Any:
    """Clear a hit (say why), flag it for a supervisor, or confirm the conflict (the case
    goes to conflict counsel). Lawyers clear and confirm; tokens never decide."""
    actor = reader(request)
    case = access_object(Case.objects, actor, case_id)
    hit = current_hits(case.pk).filter(pk=hit_id).first()
    if hit is None:
        raise NotFound(f"No conflict hit {hit_id} on this case.")
    actions.decide_case_hit(case, hit, payload.decision, actor=actor, note=payload.note)
    return _hits(actor, case).get(pk=hit_id)
