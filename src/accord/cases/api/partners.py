"""What partner agencies told the defender, over the API: the changes their events made to a
case (``PartnerUpdate`` rows, with source and clause) and everything partners shared about a
client, decided by the policy when it is read and disclosed exactly as returned — the same
rules as the case and client pages (docs/cases.md, "Partner agencies")."""

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Field, Query, Schema
from ninja.pagination import paginate

from accord.cases.api import router
from accord.cases.api.common import reader
from accord.cases.api.records import _case, _client
from accord.cases.models import Case, PartnerChange, PartnerUpdate
from accord.cases.partners.shared import shared_about
from accord.core.api import ERRORS, AccordCursorPagination
from accord.policy.actions import record_disclosures


class PartnerUpdateOut(Schema):
    id: int
    client_id: int
    case_id: int | None
    court_event_id: int | None
    custody_id: int | None
    event_id: int
    event_code: str
    source_agency_id: int
    source_agency: str = Field(alias="source_agency.name")
    reference: str
    occurred_at: datetime
    change: PartnerChange
    changed: bool
    summary: str
    basis: str


class SharedItemOut(Schema):
    occurred_at: datetime
    agency: str
    title: str
    summary: str
    basis: str
    late: bool


class SharedFilters(Schema):
    before: datetime | None = Field(None, description="only items that occurred earlier")
    limit: int = Field(50, ge=1, le=200)


@router.get("/cases/{case_id}/partner-updates", response={200: list[PartnerUpdateOut], **ERRORS})
@paginate(AccordCursorPagination)
def partner_updates(request: HttpRequest, case_id: int) -> Any:
    """What partner agencies' events changed on this case and its client's custody, newest
    first, each with the event, its source and the clause that let the office receive it."""
    actor = reader(request)
    case: Case = _case(actor, case_id)
    return (
        PartnerUpdate.objects.visible_to(actor)
        .filter(Q(case=case) | Q(client_id=case.client_id, case__isnull=True))
        .select_related("source_agency")
    )


@router.get("/clients/{client_id}/shared", response={200: list[SharedItemOut], **ERRORS})
def client_shared(request: HttpRequest, client_id: int, filters: Query[SharedFilters]) -> Any:
    """What partner agencies shared about the client that the caller may view now, newest
    first (page back with ``before`` = the last item's ``occurred_at``). Each item is a
    cross-agency read: its disclosure is recorded as it is returned."""
    actor = reader(request)
    client = _client(actor, client_id)
    cases = list(Case.objects.visible_to(actor).filter(client=client))
    items = shared_about(client, cases, actor)
    if filters.before is not None:
        items = [item for item in items if item.occurred_at < filters.before]
    items = items[: filters.limit]
    shown = [d for item in items for d in item.decisions]
    if shown:
        record_disclosures(shown, actor=actor)
    return items
