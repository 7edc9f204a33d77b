"""Privileged notes and documents of a case, and its conflict check decisions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accord.cases import actions
from accord.cases.access import may_write_privileged
from accord.cases.forms import DocumentForm, HitDecisionForm, NoteEditForm, NoteForm
from accord.cases.guards import is_assigned
from accord.cases.models import PRIVILEGED_LABEL, Case, CaseNote, Document, current_hits
from accord.cases.privileged.actions import submit_document
from accord.cases.privileged.files import max_bytes
from accord.cases.views.common import case_of, errors_as_pages, form_page, reader
from accord.cases.views.records import changeable_case
from accord.core.access import access_object
from accord.core.actors import Actor
from accord.core.errors import AccordError, InvalidInput, NotFound, PermissionDenied
from accord.people.models import ConflictHit


def _privileged_case(request: HttpRequest, pk: int) -> tuple[Actor, Case]:
    actor = reader(request)
    case = case_of(actor, pk)
    if not may_write_privileged(actor, case.agency_id, is_assigned(case, actor)):
        raise PermissionDenied(
            "Privileged material is for the case's team and the office's supervisors."
        )
    return actor, case


def _back(case: Case, anchor: str) -> str:
    return reverse("cases:case-detail", args=[case.pk]) + f"#{anchor}"


@require_http_methods(["GET", "POST"])
@errors_as_pages
def note_new(request: HttpRequest, pk: int) -> HttpResponse:
    actor, case = _privileged_case(request, pk)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        actions.write_note(case, actor=actor, text=data["text"], kind=data["kind"])
        return _back(case, "notes"), "Note saved (sealed)."

    return form_page(
        request,
        NoteForm,
        save=save,
        title="Write a privileged note",
        case=case,
        back=_back(case, "notes"),
        intro=PRIVILEGED_LABEL,
    )


@require_http_methods(["GET", "POST"])
@errors_as_pages
def note_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = reader(request)
    note: CaseNote = access_object(CaseNote.objects.select_related("case"), actor, pk)
    _actor, case = _privileged_case(request, note.case_id)
    if note.author_id != actor.user_id:
        raise PermissionDenied("Only the author of a note edits it.")

    def save(data: dict[str, Any]) -> tuple[str, str]:
        actions.edit_note(note, actor=actor, text=data["text"])
        return _back(case, "notes"), "Note saved (sealed)."

    return form_page(
        request,
        NoteEditForm,
        save=save,
        title="Edit a privileged note",
        case=case,
        back=_back(case, "notes"),
        intro=PRIVILEGED_LABEL,
        initial={"text": note.text},
    )


@require_http_methods(["GET", "POST"])
@errors_as_pages
def document_new(request: HttpRequest, pk: int) -> HttpResponse:
    actor, case = _privileged_case(request, pk)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        upload = data["file"]
        if upload.size > max_bytes():
            # Refused before reading it into memory; the action checks again.
            raise InvalidInput(
                "The document is not accepted.",
                errors=[{"field": "file", "reason": f"larger than {max_bytes() // 2**20} MiB"}],
            )
        submit_document(
            case,
            actor=actor,
            filename=upload.name or "",
            content=upload.read(),
            description=data["description"],
        )
        return _back(case, "documents"), "Document stored (sealed)."

    return form_page(
        request,
        DocumentForm,
        save=save,
        title="Upload a document",
        case=case,
        back=_back(case, "documents"),
        intro=PRIVILEGED_LABEL,
        submit="Upload",
    )


@require_GET
@errors_as_pages
def document_download(request: HttpRequest, pk: int) -> HttpResponse:
    actor = reader(request)
    document: Document = access_object(Document.objects.select_related("case"), actor, pk)
    content = actions.open_document(document, actor=actor)
    return attachment(content, document)


def attachment(content: bytes, document: Document) -> HttpResponse:
    """The document as a download (never shown inline: its type is only sniffed)."""
    response = HttpResponse(content, content_type=document.content_type)
    response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    response["Cache-Control"] = "no-store"
    return response


# --- conflict checks -------------------------------------------------------------------------


@require_POST
@errors_as_pages
def conflicts_recheck(request: HttpRequest, pk: int) -> HttpResponse:
    actor, case = changeable_case(request, pk)
    actions.recheck_conflicts(case, actor=actor)
    messages.success(request, "The client and every party were checked again.")
    return HttpResponseRedirect(_back(case, "conflicts"))


@require_POST
@errors_as_pages
def hit_decide(request: HttpRequest, pk: int, hit_pk: int) -> HttpResponse:
    actor = reader(request)
    case = case_of(actor, pk)
    hit = current_hits(case.pk).filter(pk=hit_pk).first()
    if hit is None or not ConflictHit.objects.visible_to(actor).filter(pk=hit_pk).exists():
        raise NotFound(f"No conflict hit {hit_pk} on this case.")
    form = HitDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a decision.")
    else:
        try:
            actions.decide_case_hit(
                case,
                hit,
                form.cleaned_data["decision"],
                actor=actor,
                note=form.cleaned_data["note"],
            )
        except (NotFound, PermissionDenied):
            raise
        except AccordError as exc:
            messages.error(request, exc.message())
        else:
            messages.success(request, "Decision recorded.")
    return HttpResponseRedirect(_back(case, "conflicts"))
