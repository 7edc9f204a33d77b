"""The case records over the API: case types, clients and custody, cases, charges, court
events, parties and the team."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Schema
from ninja.pagination import paginate

from accord.cases import actions
from accord.cases.api import router
from accord.cases.api.common import reader, writer
from accord.cases.api.schemas import (
    AssignmentEndIn,
    CaseAssignIn,
    CaseAssignmentOut,
    CaseChargeIn,
    CaseChargeOut,
    CaseChargePatch,
    CaseClientIn,
    CaseClientOut,
    CaseClientPatch,
    CaseCustodyIn,
    CaseCustodyOut,
    CaseDetailOut,
    CaseIn,
    CaseOut,
    CasePartyIn,
    CasePartyOut,
    CasePartyPatch,
    CasePatch,
    CaseReasonIn,
    CaseTypeOut,
    CloseIn,
    CourtEventIn,
    CourtEventOut,
    CourtEventOutcomeIn,
    CourtEventPatch,
    CustodyReleaseIn,
)
from accord.cases.models import (
    Assignment,
    Case,
    CaseType,
    Charge,
    Client,
    CourtEvent,
    CustodyStatus,
    Party,
)
from accord.cases.queries import case_with_parts, filtered_cases, next_court_date
from accord.core.access import access_object
from accord.core.actors import Actor
from accord.core.api import ERRORS, AccordCursorPagination
from accord.directory.models import Agency


def _case(actor: Actor, case_id: int) -> Case:
    case: Case = access_object(
        Case.objects.select_related("client__person", "court", "case_type", "agency"),
        actor,
        case_id,
    )
    return case


def _case_out(actor: Actor, case_id: int) -> Case:
    case: Case = access_object(
        Case.objects.select_related("client", "court", "case_type")
        .with_conflict_state()
        .annotate(next_date=next_court_date()),
        actor,
        case_id,
    )
    return case


def _client(actor: Actor, client_id: int) -> Client:
    client: Client = access_object(
        Client.objects.select_related("person", "agency").prefetch_related("person__aliases"),
        actor,
        client_id,
    )
    return client


# --- reference -------------------------------------------------------------------------------


@router.get("/case-types", response={200: list[CaseTypeOut], **ERRORS})
def case_types(request: HttpRequest) -> Any:
    """The workload case types a case counts as (NPDWS 2023, NAC 1973)."""
    actor = reader(request)
    return list(CaseType.objects.visible_to(actor))


# --- clients ---------------------------------------------------------------------------------


class ClientFilters(Schema):
    q: str = ""


@router.get("/clients", response={200: list[CaseClientOut], **ERRORS})
@paginate(AccordCursorPagination)
def client_list(request: HttpRequest, filters: Query[ClientFilters]) -> Any:
    """The office's clients, newest first; ``q`` finds names, aliases and client numbers."""
    actor = reader(request)
    clients = Client.objects.visible_to(actor).select_related("person")
    if filters.q:
        clients = clients.search(filters.q)
    return clients.prefetch_related("person__aliases")


def _person(values: dict[str, Any]) -> dict[str, Any]:
    if values.get("aliases") is not None:
        values["aliases"] = [dict(a) for a in values["aliases"]]
    else:
        values.pop("aliases", None)
    return values


@router.post("/clients", response={201: CaseClientOut, **ERRORS})
def client_create(request: HttpRequest, payload: CaseClientIn) -> Any:
    """Take on a client (the caller's office): the defender's people record of them."""
    actor = writer(request)
    values = _person(payload.dict())
    number = values.pop("number")
    agency = Agency.objects.get(pk=actor.agency_id or 0)
    client = actions.create_client(agency, actor=actor, number=number, **values)
    return 201, _client(actor, client.pk)


@router.get("/clients/{client_id}", response={200: CaseClientOut, **ERRORS})
def client_detail(request: HttpRequest, client_id: int) -> Any:
    return _client(reader(request), client_id)


@router.patch("/clients/{client_id}", response={200: CaseClientOut, **ERRORS})
def client_update(request: HttpRequest, client_id: int, payload: CaseClientPatch) -> Any:
    """Correct a client's details; their open cases are checked for conflicts again."""
    actor = writer(request)
    client = _client(actor, client_id)
    actions.update_client(client, actor=actor, **_person(payload.dict(exclude_unset=True)))
    return _client(actor, client_id)


@router.get("/clients/{client_id}/cases", response={200: list[CaseOut], **ERRORS})
@paginate(AccordCursorPagination)
def client_cases(request: HttpRequest, client_id: int) -> Any:
    """Every case of the client, in every court."""
    actor = reader(request)
    client = _client(actor, client_id)
    return filtered_cases(actor, {"scope": "office"}).filter(client=client)


@router.get("/clients/{client_id}/custody", response={200: list[CaseCustodyOut], **ERRORS})
def client_custody(request: HttpRequest, client_id: int) -> Any:
    """The client's spells in custody, the current one first."""
    actor = reader(request)
    client = _client(actor, client_id)
    return list(CustodyStatus.objects.visible_to(actor).filter(client=client))


@router.post("/clients/{client_id}/custody", response={201: CaseCustodyOut, **ERRORS})
def custody_create(request: HttpRequest, client_id: int, payload: CaseCustodyIn) -> Any:
    actor = writer(request)
    client = _client(actor, client_id)
    values = payload.dict()
    case_id = values.pop("case_id")
    case = _case(actor, case_id) if case_id is not None else None
    return 201, actions.record_custody(client, actor=actor, case=case, **values)


@router.post("/custody/{custody_id}/release", response={200: CaseCustodyOut, **ERRORS})
def custody_release(request: HttpRequest, custody_id: int, payload: CustodyReleaseIn) -> Any:
    actor = writer(request)
    custody = access_object(CustodyStatus.objects.select_related("client"), actor, custody_id)
    return actions.record_release(custody, actor=actor, released_on=payload.released_on)


# --- cases -----------------------------------------------------------------------------------


class CaseFilters(Schema):
    q: str = ""
    scope: str = "mine"
    status: str = ""
    court_id: int | None = None
    case_type_id: int | None = None
    conflict: str = ""


@router.get("/cases", response={200: list[CaseOut], **ERRORS})
@paginate(AccordCursorPagination)
def case_list(request: HttpRequest, filters: Query[CaseFilters]) -> Any:
    """Cases, newest first. ``scope``: ``mine`` (the caller's team's cases; a token sees the
    office's), ``team`` (the caller's unit) or ``office``; ``conflict``: ``unresolved`` or
    ``conflict``."""
    actor = reader(request)
    data = filters.dict()
    data["court"], data["case_type"] = data.pop("court_id"), data.pop("case_type_id")
    return filtered_cases(actor, data)


@router.post("/cases", response={201: CaseDetailOut, **ERRORS})
def case_create(request: HttpRequest, payload: CaseIn) -> Any:
    """Open a case: the case, its charges and parties, the attorney, and a conflict check of
    the client and every party against the whole office, all or nothing."""
    actor = writer(request)
    client = access_object(
        Client.objects.select_related("person", "agency"), actor, payload.client_id
    )
    case = actions.open_case(
        client,
        actor=actor,
        number=payload.number,
        court=payload.court_id,
        case_type=payload.case_type_id,
        opened_on=payload.opened_on,
        attorney=payload.attorney_id,
        charges=[c.dict(exclude_none=True) for c in payload.charges],
        parties=[p.dict() for p in payload.parties],
    )
    return 201, case_with_parts(actor, case.pk)


@router.get("/cases/{case_id}", response={200: CaseDetailOut, **ERRORS})
def case_detail(request: HttpRequest, case_id: int) -> Any:
    """A case with its charges, court events, parties, team, ticklers and conflict hits
    (privileged notes and documents have endpoints of their own)."""
    return case_with_parts(reader(request), case_id)


@router.patch("/cases/{case_id}", response={200: CaseOut, **ERRORS})
def case_update(request: HttpRequest, case_id: int, payload: CasePatch) -> Any:
    actor = writer(request)
    values = payload.dict(exclude_unset=True)
    if "court_id" in values:
        values["court"] = values.pop("court_id")
    if "case_type_id" in values:
        values["case_type"] = values.pop("case_type_id")
    actions.update_case(_case(actor, case_id), actor=actor, **values)
    return _case_out(actor, case_id)


@router.post("/cases/{case_id}/close", response={200: CaseOut, **ERRORS})
def case_close(request: HttpRequest, case_id: int, payload: CloseIn) -> Any:
    actor = writer(request)
    actions.close_case(_case(actor, case_id), actor=actor, **payload.dict())
    return _case_out(actor, case_id)


@router.post("/cases/{case_id}/reopen", response={200: CaseOut, **ERRORS})
def case_reopen(request: HttpRequest, case_id: int, payload: CaseReasonIn) -> Any:
    actor = writer(request)
    actions.reopen_case(_case(actor, case_id), actor=actor, reason=payload.reason)
    return _case_out(actor, case_id)


# --- charges, events, parties, team ----------------------------------------------------------


@router.get("/cases/{case_id}/charges", response={200: list[CaseChargeOut], **ERRORS})
def charge_list(request: HttpRequest, case_id: int) -> Any:
    actor = reader(request)
    return list(Charge.objects.filter(case=_case(actor, case_id)))


@router.post("/cases/{case_id}/charges", response={201: CaseChargeOut, **ERRORS})
def charge_create(request: HttpRequest, case_id: int, payload: CaseChargeIn) -> Any:
    actor = writer(request)
    return 201, actions.add_charge(
        _case(actor, case_id), actor=actor, **payload.dict(exclude_none=True)
    )


@router.patch("/charges/{charge_id}", response={200: CaseChargeOut, **ERRORS})
def charge_update(request: HttpRequest, charge_id: int, payload: CaseChargePatch) -> Any:
    """Change a charge or record its disposition (which sets off the office's rules)."""
    actor = writer(request)
    charge = access_object(Charge.objects, actor, charge_id)
    return actions.update_charge(charge, actor=actor, **payload.dict(exclude_unset=True))


@router.get("/cases/{case_id}/events", response={200: list[CourtEventOut], **ERRORS})
def event_list(request: HttpRequest, case_id: int) -> Any:
    actor = reader(request)
    return list(CourtEvent.objects.filter(case=_case(actor, case_id)))


@router.post("/cases/{case_id}/events", response={201: CourtEventOut, **ERRORS})
def event_create(request: HttpRequest, case_id: int, payload: CourtEventIn) -> Any:
    actor = writer(request)
    return 201, actions.schedule_event(_case(actor, case_id), actor=actor, **payload.dict())


@router.patch("/events/{event_id}", response={200: CourtEventOut, **ERRORS})
def event_update(request: HttpRequest, event_id: int, payload: CourtEventPatch) -> Any:
    actor = writer(request)
    event = access_object(CourtEvent.objects, actor, event_id)
    return actions.update_event(event, actor=actor, **payload.dict(exclude_unset=True))


@router.post("/events/{event_id}/outcome", response={200: CourtEventOut, **ERRORS})
def event_outcome(request: HttpRequest, event_id: int, payload: CourtEventOutcomeIn) -> Any:
    """Held (sets off rules such as discovery after arraignment), continued (to
    ``continued_to``, scheduled here) or cancelled."""
    actor = writer(request)
    event = access_object(CourtEvent.objects, actor, event_id)
    return actions.record_event_outcome(event, actor=actor, **payload.dict())


@router.get("/cases/{case_id}/parties", response={200: list[CasePartyOut], **ERRORS})
def party_list(request: HttpRequest, case_id: int) -> Any:
    actor = reader(request)
    return list(Party.objects.present().filter(case=_case(actor, case_id)).select_related("person"))


@router.post("/cases/{case_id}/parties", response={201: CasePartyOut, **ERRORS})
def party_create(request: HttpRequest, case_id: int, payload: CasePartyIn) -> Any:
    """Add a party; they are checked against the whole office first."""
    actor = writer(request)
    return 201, actions.add_party(_case(actor, case_id), actor=actor, **payload.dict())


def _party(actor: Actor, party_id: int) -> Party:
    party: Party = access_object(Party.objects.present().select_related("person"), actor, party_id)
    return party


@router.patch("/parties/{party_id}", response={200: CasePartyOut, **ERRORS})
def party_update(request: HttpRequest, party_id: int, payload: CasePartyPatch) -> Any:
    actor = writer(request)
    return actions.update_party(
        _party(actor, party_id), actor=actor, **payload.dict(exclude_unset=True)
    )


@router.post("/parties/{party_id}/remove", response={200: CasePartyOut, **ERRORS})
def party_remove(request: HttpRequest, party_id: int, payload: CaseReasonIn) -> Any:
    actor = writer(request)
    return actions.remove_party(_party(actor, party_id), actor=actor, reason=payload.reason)


@router.get("/cases/{case_id}/team", response={200: list[CaseAssignmentOut], **ERRORS})
def team_list(request: HttpRequest, case_id: int) -> Any:
    actor = reader(request)
    return list(Assignment.objects.filter(case=_case(actor, case_id)).select_related("staff__user"))


@router.post("/cases/{case_id}/team", response={201: CaseAssignmentOut, **ERRORS})
def team_assign(request: HttpRequest, case_id: int, payload: CaseAssignIn) -> Any:
    """Assign a staff member (the case is checked for conflicts first)."""
    actor = writer(request)
    assignment = actions.assign(
        _case(actor, case_id),
        payload.staff_id,
        payload.role,
        actor=actor,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
    )
    return 201, Assignment.objects.select_related("staff__user").get(pk=assignment.pk)


@router.post("/team/{assignment_id}/end", response={200: CaseAssignmentOut, **ERRORS})
def team_end(request: HttpRequest, assignment_id: int, payload: AssignmentEndIn) -> Any:
    actor = writer(request)
    assignment = access_object(
        Assignment.objects.select_related("staff__user"), actor, assignment_id
    )
    ended = actions.end_assignment(assignment, actor=actor, ends_on=payload.ends_on)
    return Assignment.objects.select_related("staff__user").get(pk=ended.pk)
