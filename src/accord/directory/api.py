"""The directory API (/api/v1/directory): agencies, their units and the partnership's staff.

Reading needs the scope ``directory:read``; changing needs ``directory:write`` (people are
not limited by scopes, only by their roles). Who may change what is decided by the actions,
the same as for the pages: a coordinator changes anything; an agency administrator changes
their own agency's contact details, units and staff. **A token writes as its agency's
administrator, for its own agency only** (an HR system provisioning the agency's staff),
and never more: it cannot set passwords, cannot give or take away the governing roles
(agency administrator, auditor, coordinator), cannot change an agency's identity (name,
kind, jurisdiction, identifier) and cannot suspend or reinstate anyone. A token of a
suspended agency is refused outright.

Inputs are strict: an unknown field is a 422 naming it. Lists are cursor-paginated.
Usernames and account status are account data: they appear only to those who manage the
account, and are otherwise absent (never blanked).
"""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import BaseModel, StrictBool, model_validator

from accord.accounts.actions import recently_authenticated
from accord.core.access import access_object
from accord.core.actors import Actor
from accord.core.api import ERRORS, AccordCursorPagination, StrictSchema, require_scope
from accord.core.errors import InvalidInput, NotFound, PermissionDenied
from accord.directory import actions
from accord.directory.models import (
    AccountStatus,
    Agency,
    AgencyKind,
    AgencyStatus,
    Role,
    StaffProfile,
    Unit,
    may_manage_agency,
    may_manage_all,
)

READ = "directory:read"
WRITE = "directory:write"

router = Router(tags=["directory"])


# --- schemas -------------------------------------------------------------------------------


class AgencyOut(Schema):
    id: int
    name: str
    short_name: str
    kind: AgencyKind
    jurisdiction: str
    identifier: str
    status: AgencyStatus
    email: str
    phone: str
    created_at: datetime
    updated_at: datetime


class AgencyIn(StrictSchema):
    name: str
    short_name: str
    kind: AgencyKind
    jurisdiction: str
    identifier: str = ""
    email: str = ""
    phone: str = ""


class AgencyPatch(StrictSchema):
    """Only the fields sent are changed. An agency's administrator may send only ``email``
    and ``phone``; the others are a coordinator's."""

    name: str | None = None
    short_name: str | None = None
    kind: AgencyKind | None = None
    jurisdiction: str | None = None
    identifier: str | None = None
    email: str | None = None
    phone: str | None = None


class AgencyFilters(Schema):
    q: str = Field("", description="Words to find in name, short name, jurisdiction, identifier")
    kind: AgencyKind | None = None
    status: AgencyStatus | None = None


class SuspendIn(StrictSchema):
    reason: str = Field(description="Why, recorded in the audit log.")


class UnitOut(Schema):
    id: int
    agency_id: int
    name: str
    description: str


class UnitIn(StrictSchema):
    name: str
    description: str = ""


class UnitPatch(StrictSchema):
    name: str | None = None
    description: str | None = None


class StaffAgencyRef(BaseModel):
    id: int
    name: str
    short_name: str


class StaffUnitRef(BaseModel):
    id: int
    name: str


class StaffAttributesIn(StrictSchema):
    """The attributes agreements may require of a recipient. Text, or true/false."""

    bar_number: str | None = None
    badge_number: str | None = None
    sworn_officer: StrictBool | None = None
    part2_program: StrictBool | None = None
    licensed_clinician: StrictBool | None = None


def staff_data(profile: StaffProfile, *, managed: bool) -> dict[str, Any]:
    """What the API shows of one staff member; account data only when ``managed``."""
    user = profile.user
    data: dict[str, Any] = {
        "id": profile.pk,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "agency": {
            "id": profile.agency_id,
            "name": profile.agency.name,
            "short_name": profile.agency.short_name,
        },
        "unit": {"id": profile.unit.pk, "name": profile.unit.name} if profile.unit else None,
        "title": profile.title,
        "phone": profile.phone,
        "roles": profile.sorted_roles,
        "attributes": dict(profile.attributes),
    }
    if managed:
        data["username"] = user.username
        data["account_status"] = profile.account_status
    return data


class StaffOut(BaseModel):
    """A staff member as the whole partnership sees them."""

    id: int
    first_name: str
    last_name: str
    email: str
    agency: StaffAgencyRef
    unit: StaffUnitRef | None
    title: str
    phone: str
    roles: list[Role]
    attributes: dict[str, str | bool]

    @model_validator(mode="before")
    @classmethod
    def _from_profile(cls, data: Any) -> Any:
        # A list answers straight from the queryset: directory fields only.
        if isinstance(data, StaffProfile):
            return staff_data(data, managed=False)
        return data


class StaffDetailOut(StaffOut):
    """One staff member; ``username`` and ``account_status`` are present only for those
    who manage the account (coordinators, the agency's administrators and systems)."""

    username: str | None = None
    account_status: AccountStatus | None = None


class StaffIn(StrictSchema):
    username: str
    first_name: str
    last_name: str
    email: str
    agency: int = Field(description="The agency's id; an administrator or token: their own.")
    unit: int | None = Field(None, description="A unit of that agency.")
    title: str = ""
    phone: str = ""
    roles: list[Role] = []
    attributes: StaffAttributesIn = Field(default_factory=StaffAttributesIn)
    password: str | None = Field(
        None,
        description="An optional first password (people only: a token cannot set one).",
    )


class StaffPatch(StrictSchema):
    """Only the fields sent are changed. ``unit: null`` takes the person out of their unit;
    ``roles`` replaces the roles; ``attributes`` are merged (``null`` or ``false`` removes
    one)."""

    title: str | None = None
    phone: str | None = None
    unit: int | None = None
    roles: list[Role] | None = None
    attributes: StaffAttributesIn | None = None


class StaffFilters(Schema):
    q: str = Field("", description="Words to find in first or last name, title or username")
    agency: int | None = Field(None, description="Only staff of this agency")
    role: Role | None = Field(None, description="Only staff holding this role")


# --- helpers -------------------------------------------------------------------------------


def _reference(queryset: Any, actor: Actor, pk: int, field: str) -> Any:
    """A row named in a request body: a missing one is a wrong field (422), not a 404."""
    try:
        return access_object(queryset, actor, pk)
    except NotFound as exc:
        raise InvalidInput(
            f"No {field} {pk}.", errors=[{"field": field, "reason": "no such " + field}]
        ) from exc


def _require_fresh_sign_in(request: HttpRequest, actor: Actor) -> None:
    # The pages ask for a fresh password and code before a suspension; a browser session
    # calling the API must not be a way around that.
    if actor.token_id is None and not actor.is_system and not recently_authenticated(request):
        raise PermissionDenied(
            "Confirm it is you first: re-authenticate (password and a new code), then retry."
        )


def _staff(actor: Actor, pk: int) -> StaffProfile:
    profile: StaffProfile = access_object(StaffProfile.objects.with_roles(), actor, pk)
    return profile


def _staff_answer(actor: Actor, pk: int) -> dict[str, Any]:
    profile = _staff(actor, pk)
    return staff_data(profile, managed=may_manage_agency(actor, profile.agency_id))


# --- agencies ------------------------------------------------------------------------------


@router.get("/agencies", response={200: list[AgencyOut], **ERRORS}, summary="List agencies")
@paginate(AccordCursorPagination)
def list_agencies(request: HttpRequest, filters: Query[AgencyFilters]) -> Any:
    actor = require_scope(request, READ)
    agencies = Agency.objects.visible_to(actor).search(filters.q)
    if filters.kind:
        agencies = agencies.filter(kind=filters.kind)
    if filters.status:
        agencies = agencies.filter(status=filters.status)
    return agencies


@router.post("/agencies", response={201: AgencyOut, **ERRORS}, summary="Add an agency")
def create_agency(request: HttpRequest, payload: AgencyIn) -> Any:
    actor = require_scope(request, WRITE)
    if not may_manage_all(actor):
        raise PermissionDenied("Only a coordinator can add an agency.")
    return 201, actions.create_agency(actor=actor, **payload.model_dump())


@router.get("/agencies/{agency_id}", response={200: AgencyOut, **ERRORS}, summary="One agency")
def get_agency(request: HttpRequest, agency_id: int) -> Any:
    actor = require_scope(request, READ)
    return access_object(Agency.objects, actor, agency_id)


@router.patch(
    "/agencies/{agency_id}", response={200: AgencyOut, **ERRORS}, summary="Change an agency"
)
def update_agency(request: HttpRequest, agency_id: int, payload: AgencyPatch) -> Any:
    actor = require_scope(request, WRITE)
    agency = access_object(Agency.objects, actor, agency_id)
    return actions.update_agency(agency, actor=actor, **payload.model_dump(exclude_unset=True))


@router.post(
    "/agencies/{agency_id}/suspend",
    response={200: AgencyOut, **ERRORS},
    summary="Suspend an agency (coordinators, after re-authenticating)",
)
def suspend_agency(request: HttpRequest, agency_id: int, payload: SuspendIn) -> Any:
    actor = require_scope(request, WRITE)
    agency = access_object(Agency.objects, actor, agency_id)
    if not may_manage_all(actor):
        raise PermissionDenied("Only a coordinator can suspend an agency.")
    _require_fresh_sign_in(request, actor)
    return actions.suspend_agency(agency, payload.reason, actor=actor)


@router.post(
    "/agencies/{agency_id}/reinstate",
    response={200: AgencyOut, **ERRORS},
    summary="Reinstate a suspended agency (coordinators, after re-authenticating)",
)
def reinstate_agency(request: HttpRequest, agency_id: int) -> Any:
    actor = require_scope(request, WRITE)
    agency = access_object(Agency.objects, actor, agency_id)
    if not may_manage_all(actor):
        raise PermissionDenied("Only a coordinator can reinstate an agency.")
    _require_fresh_sign_in(request, actor)
    return actions.reinstate_agency(agency, actor=actor)


# --- units ---------------------------------------------------------------------------------


@router.get(
    "/agencies/{agency_id}/units",
    response={200: list[UnitOut], **ERRORS},
    summary="An agency's units",
)
@paginate(AccordCursorPagination)
def list_units(request: HttpRequest, agency_id: int) -> Any:
    actor = require_scope(request, READ)
    agency = access_object(Agency.objects, actor, agency_id)
    return Unit.objects.visible_to(actor).filter(agency=agency)


@router.post("/agencies/{agency_id}/units", response={201: UnitOut, **ERRORS}, summary="Add a unit")
def create_unit(request: HttpRequest, agency_id: int, payload: UnitIn) -> Any:
    actor = require_scope(request, WRITE)
    agency = access_object(Agency.objects, actor, agency_id)
    return 201, actions.create_unit(agency, payload.name, payload.description, actor=actor)


@router.patch("/units/{unit_id}", response={200: UnitOut, **ERRORS}, summary="Change a unit")
def update_unit(request: HttpRequest, unit_id: int, payload: UnitPatch) -> Any:
    actor = require_scope(request, WRITE)
    unit = access_object(Unit.objects.select_related("agency"), actor, unit_id)
    return actions.update_unit(
        unit,
        unit.name if payload.name is None else payload.name,
        unit.description if payload.description is None else payload.description,
        actor=actor,
    )


# --- staff ---------------------------------------------------------------------------------


@router.get("/staff", response={200: list[StaffOut], **ERRORS}, summary="List staff")
@paginate(AccordCursorPagination)
def list_staff(request: HttpRequest, filters: Query[StaffFilters]) -> Any:
    actor = require_scope(request, READ)
    staff = StaffProfile.objects.visible_to(actor).search(filters.q, actor=actor)
    if filters.agency is not None:
        staff = staff.filter(agency_id=filters.agency)
    if filters.role is not None:
        staff = staff.filter(role_rows__role=filters.role)
    return staff.with_roles()


@router.post(
    "/staff",
    response={201: StaffDetailOut, **ERRORS},
    summary="Add a staff member (their account and profile)",
    exclude_unset=True,
)
def add_staff(request: HttpRequest, payload: StaffIn) -> Any:
    actor = require_scope(request, WRITE)
    agency = _reference(Agency.objects, actor, payload.agency, "agency")
    unit = None
    if payload.unit is not None:
        unit = _reference(Unit.objects, actor, payload.unit, "unit")
    profile = actions.add_staff(
        agency,
        actor=actor,
        username=payload.username,
        first_name=payload.first_name,
        last_name=payload.last_name,
        email=payload.email,
        roles=[str(r) for r in payload.roles],
        unit=unit,
        title=payload.title,
        phone=payload.phone,
        attributes=payload.attributes.model_dump(exclude_none=True),
        password=payload.password,
    )
    return 201, _staff_answer(actor, profile.pk)


@router.get(
    "/staff/{staff_id}",
    response={200: StaffDetailOut, **ERRORS},
    summary="One staff member",
    exclude_unset=True,
)
def get_staff(request: HttpRequest, staff_id: int) -> Any:
    actor = require_scope(request, READ)
    return _staff_answer(actor, staff_id)


@router.patch(
    "/staff/{staff_id}",
    response={200: StaffDetailOut, **ERRORS},
    summary="Change a staff member's title, phone, unit, roles or attributes",
    exclude_unset=True,
)
def update_staff(request: HttpRequest, staff_id: int, payload: StaffPatch) -> Any:
    actor = require_scope(request, WRITE)
    profile = _staff(actor, staff_id)
    sent = payload.model_fields_set
    unit = None
    if "unit" in sent and payload.unit is not None:
        unit = _reference(Unit.objects, actor, payload.unit, "unit")
    attributes = None
    if payload.attributes is not None:
        attributes = dict(profile.attributes)
        for name, value in payload.attributes.model_dump(exclude_unset=True).items():
            if value is None or value is False:
                attributes.pop(name, None)
            else:
                attributes[name] = value
    actions.update_staff(
        profile,
        actor=actor,
        title=payload.title,
        phone=payload.phone,
        unit=unit,
        clear_unit="unit" in sent and payload.unit is None,
        roles=None if payload.roles is None else [str(r) for r in payload.roles],
        attributes=attributes,
    )
    return _staff_answer(actor, profile.pk)
