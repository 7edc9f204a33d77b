"""Every change to the directory. Coordinators manage the whole partnership; an agency
administrator manages only their own agency's units, staff and contact details, and can
neither hand out nor take away the coordinator role.

An agency system's API token with the ``directory:write`` scope acts like its agency's
administrator (it provisions the agency's own staff from an HR system), with two limits so
that a leaked machine credential cannot mint a way in: it cannot set passwords, and it
cannot give or take away the roles that govern the partnership (``GOVERNING_ROLES``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accord.accounts.actions import check_password_rules
from accord.accounts.models import User
from accord.audit.chain import append as audit
from accord.audit.codes import AuditAction
from accord.core.actions import action
from accord.core.actors import Actor
from accord.core.errors import ActionRefused, InvalidInput, PermissionDenied
from accord.directory.models import (
    BOOLEAN_ATTRIBUTES,
    Agency,
    AgencyKind,
    AgencyStatus,
    Role,
    StaffAttribute,
    StaffProfile,
    StaffRole,
    Unit,
    may_manage_agency,
    may_manage_all,
)

AGENCY_FIELDS = ("name", "short_name", "kind", "jurisdiction", "identifier", "email", "phone")
# What an agency's own administrator may change about it. The rest is the agency's identity
# in the partnership (what agreements name and other systems key on): the coordinator's.
AGENCY_CONTACT_FIELDS = ("email", "phone")
# Roles a person may hold only by another person's decision, never a token's.
GOVERNING_ROLES = frozenset({Role.COORDINATOR, Role.AGENCY_ADMIN, Role.AUDITOR})
TEXT_LIMITS = {"title": 120, "phone": 40}


def _require_coordinator(actor: Actor) -> None:
    if not may_manage_all(actor):
        raise PermissionDenied("Only a coordinator can do this.")


def _require_manager_of(agency_id: int, actor: Actor) -> None:
    if not may_manage_agency(actor, agency_id):
        raise PermissionDenied("Only a coordinator or this agency's administrator can do this.")


def _clean_text(name: str, value: str, errors: list[dict[str, str]]) -> str:
    # Too long is an error, never a silent cut: a truncated title or phone number is wrong.
    value = value.strip()
    if len(value) > TEXT_LIMITS[name]:
        errors.append({"field": name, "reason": f"at most {TEXT_LIMITS[name]} characters"})
    return value


def _clean_agency(values: Mapping[str, Any], instance: Agency | None) -> dict[str, Any]:
    errors: list[dict[str, str]] = []
    unknown = set(values) - set(AGENCY_FIELDS)
    for name in sorted(unknown):
        errors.append({"field": name, "reason": "unknown field"})
    cleaned = {k: (str(v).strip() if v is not None else "") for k, v in values.items()}
    for required in ("name", "short_name", "kind", "jurisdiction"):
        if (instance is None or required in cleaned) and not cleaned.get(required):
            errors.append({"field": required, "reason": "required"})
    if cleaned.get("kind") and cleaned["kind"] not in AgencyKind.values:
        errors.append({"field": "kind", "reason": f"must be one of {', '.join(AgencyKind.values)}"})
    if cleaned.get("email"):
        try:
            validate_email(cleaned["email"])
        except ValidationError:
            errors.append({"field": "email", "reason": "not a valid e-mail address"})
    limits = {"name": 200, "short_name": 40, "jurisdiction": 120, "identifier": 40, "phone": 40}
    for name, limit in limits.items():
        if len(cleaned.get(name, "")) > limit:
            errors.append({"field": name, "reason": f"at most {limit} characters"})
    others = Agency.objects.exclude(pk=instance.pk) if instance else Agency.objects.all()
    if cleaned.get("name") and others.filter(name__iexact=cleaned["name"]).exists():
        errors.append({"field": "name", "reason": "another agency has this name"})
    if (
        cleaned.get("short_name")
        and others.filter(short_name__iexact=cleaned["short_name"]).exists()
    ):
        errors.append({"field": "short_name", "reason": "another agency has this short name"})
    kind = cleaned.get("kind") or (instance.kind if instance else "")
    identifier = cleaned.get("identifier", instance.identifier if instance else "")
    if identifier and others.filter(kind=kind, identifier=identifier).exists():
        errors.append({"field": "identifier", "reason": "another agency of this kind uses it"})
    if errors:
        raise InvalidInput("The agency cannot be saved.", errors=errors)
    return cleaned


@action
def create_agency(*, actor: Actor, **values: Any) -> Agency:
    """Add an agency to the partnership (coordinators only)."""
    _require_coordinator(actor)
    cleaned = _clean_agency(values, None)
    agency = Agency.objects.create(**cleaned)
    audit(actor, AuditAction.AGENCY_CREATED, obj=agency, agency_id=agency.pk, details=cleaned)
    return agency


@action
def update_agency(agency: Agency, *, actor: Actor, **values: Any) -> Agency:
    """Change an agency's details: its contact fields by its administrator, the rest (name,
    kind, jurisdiction, identifier) by a coordinator only."""
    _require_manager_of(agency.pk, actor)
    if not may_manage_all(actor):
        identity = sorted(
            k
            for k, v in values.items()
            if k in AGENCY_FIELDS
            and k not in AGENCY_CONTACT_FIELDS
            and str(v if v is not None else "").strip() != getattr(agency, k)
        )
        if identity:
            raise PermissionDenied(
                f"Only a coordinator can change an agency's {', '.join(identity)}."
            )
    cleaned = _clean_agency(values, agency)
    changed = {k: v for k, v in cleaned.items() if getattr(agency, k) != v}
    if not changed:
        return agency
    for name, value in changed.items():
        setattr(agency, name, value)
    agency.save()
    audit(actor, AuditAction.AGENCY_UPDATED, obj=agency, agency_id=agency.pk, details=changed)
    return agency


@action
def suspend_agency(agency: Agency, reason: str, *, actor: Actor) -> Agency:
    """A suspended agency gets nothing through any agreement until reinstated."""
    _require_coordinator(actor)
    if agency.is_suspended:
        raise ActionRefused("This agency is already suspended.")
    if not reason.strip():
        raise InvalidInput("Give a reason.", errors=[{"field": "reason", "reason": "required"}])
    agency.status = AgencyStatus.SUSPENDED
    agency.save(update_fields=["status", "updated_at"])
    audit(
        actor,
        AuditAction.AGENCY_SUSPENDED,
        obj=agency,
        agency_id=agency.pk,
        details={"reason": reason.strip()},
    )
    return agency


@action
def reinstate_agency(agency: Agency, *, actor: Actor) -> Agency:
    """Lift a suspension: the agency's agreements apply again (coordinators only)."""
    _require_coordinator(actor)
    if not agency.is_suspended:
        raise ActionRefused("This agency is not suspended.")
    agency.status = AgencyStatus.ACTIVE
    agency.save(update_fields=["status", "updated_at"])
    audit(actor, AuditAction.AGENCY_REINSTATED, obj=agency, agency_id=agency.pk)
    return agency


def _clean_unit_name(agency: Agency, name: str, instance: Unit | None) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput(
            "The unit needs a name.", errors=[{"field": "name", "reason": "required"}]
        )
    if len(name) > 120:
        raise InvalidInput(
            "The name is too long.", errors=[{"field": "name", "reason": "at most 120 characters"}]
        )
    others = agency.units.exclude(pk=instance.pk) if instance else agency.units.all()
    if others.filter(name__iexact=name).exists():
        raise InvalidInput(
            "The agency already has a unit of that name.",
            errors=[{"field": "name", "reason": "already used in this agency"}],
        )
    return name


def _clean_unit_description(description: str) -> str:
    description = description.strip()
    if len(description) > 300:
        raise InvalidInput(
            "The description is too long.",
            errors=[{"field": "description", "reason": "at most 300 characters"}],
        )
    return description


@action
def create_unit(agency: Agency, name: str, description: str = "", *, actor: Actor) -> Unit:
    """Add a unit (team, desk, clinic) to an agency."""
    _require_manager_of(agency.pk, actor)
    unit = Unit.objects.create(
        agency=agency,
        name=_clean_unit_name(agency, name, None),
        description=_clean_unit_description(description),
    )
    audit(actor, AuditAction.UNIT_CREATED, obj=unit, agency_id=agency.pk)
    return unit


@action
def update_unit(unit: Unit, name: str, description: str = "", *, actor: Actor) -> Unit:
    """Rename or re-describe a unit of an agency."""
    _require_manager_of(unit.agency_id, actor)
    before = {"name": unit.name, "description": unit.description}
    unit.name = _clean_unit_name(unit.agency, name, unit)
    unit.description = _clean_unit_description(description)
    unit.save()
    audit(
        actor,
        AuditAction.UNIT_UPDATED,
        obj=unit,
        agency_id=unit.agency_id,
        details={"before": before, "after": {"name": unit.name, "description": unit.description}},
    )
    return unit


def _clean_roles(roles: Iterable[str], actor: Actor, before: Iterable[str] = ()) -> set[str]:
    """Known roles only; the coordinator role is given or taken away only by a coordinator,
    and a token changes no governing role at all."""
    wanted = {str(r) for r in roles}
    unknown = sorted(wanted - set(Role.values))
    if unknown:
        raise InvalidInput(
            "Unknown roles.",
            errors=[{"field": "roles", "reason": f"unknown: {', '.join(unknown)}"}],
        )
    touched = wanted.symmetric_difference(before)
    if Role.COORDINATOR in touched and not may_manage_all(actor):
        raise PermissionDenied("Only a coordinator can give or take away the coordinator role.")
    governing = sorted(touched & GOVERNING_ROLES)
    if governing and actor.token_id is not None:
        raise PermissionDenied(
            f"An API token cannot give or take away the roles {', '.join(governing)}: "
            "a person must."
        )
    return wanted


def _clean_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    errors = []
    cleaned: dict[str, Any] = {}
    for name, value in attributes.items():
        if name not in StaffAttribute.values:
            errors.append({"field": f"attributes.{name}", "reason": "unknown attribute"})
        elif name in BOOLEAN_ATTRIBUTES:
            if not isinstance(value, bool):
                errors.append({"field": f"attributes.{name}", "reason": "must be true or false"})
            elif value:
                cleaned[name] = True
        elif not isinstance(value, str) or len(value) > 60:
            errors.append(
                {"field": f"attributes.{name}", "reason": "text of at most 60 characters"}
            )
        elif value.strip():
            cleaned[name] = value.strip()
    if errors:
        raise InvalidInput("Invalid staff attributes.", errors=errors)
    return cleaned


def _set_roles(profile: StaffProfile, wanted: set[str], actor: Actor) -> None:
    before = set(StaffRole.objects.filter(profile=profile).values_list("role", flat=True))
    if before == wanted:
        return
    StaffRole.objects.filter(profile=profile).exclude(role__in=wanted).delete()
    StaffRole.objects.bulk_create(
        StaffRole(profile=profile, role=r) for r in sorted(wanted - before)
    )
    audit(
        actor,
        AuditAction.ROLES_CHANGED,
        obj=profile,
        agency_id=profile.agency_id,
        details={"before": sorted(before), "after": sorted(wanted)},
    )


def _account_errors(
    username: str, first_name: str, last_name: str, email: str
) -> list[dict[str, str]]:
    """What is wrong with a new account's username, names and e-mail address."""
    errors: list[dict[str, str]] = []
    if not username:
        errors.append({"field": "username", "reason": "required"})
    elif len(username) > 150 or not all(c.isalnum() or c in "@.+-_" for c in username):
        errors.append(
            {"field": "username", "reason": "letters, digits and @.+-_ only, at most 150"}
        )
    elif User.objects.filter(username__iexact=username).exists():
        errors.append({"field": "username", "reason": "already taken"})
    for name, value in (("first_name", first_name), ("last_name", last_name)):
        if not value.strip():
            errors.append({"field": name, "reason": "required"})
        elif len(value.strip()) > 150:
            errors.append({"field": name, "reason": "at most 150 characters"})
    try:
        validate_email(email.strip())
        if len(email.strip()) > 254:
            raise ValidationError("too long")
    except ValidationError:
        errors.append({"field": "email", "reason": "not a valid e-mail address"})
    return errors


@action
def add_staff(
    agency: Agency,
    *,
    actor: Actor,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    roles: Iterable[str],
    password: str | None = None,
    unit: Unit | None = None,
    title: str = "",
    phone: str = "",
    attributes: Mapping[str, Any] | None = None,
    is_demo: bool = False,
) -> StaffProfile:
    """Create a person's account and their staff profile in one step (all or nothing)."""
    _require_manager_of(agency.pk, actor)
    if password is not None and actor.token_id is not None:
        raise PermissionDenied(
            "An API token cannot set passwords: an administrator gives the first one."
        )
    username = username.strip()
    errors = _account_errors(username, first_name, last_name, email)
    if unit is not None and unit.agency_id != agency.pk:
        errors.append({"field": "unit", "reason": "belongs to another agency"})
    title = _clean_text("title", title, errors)
    phone = _clean_text("phone", phone, errors)
    if errors:
        raise InvalidInput("The staff member cannot be added.", errors=errors)
    wanted_roles = _clean_roles(roles, actor)
    cleaned_attributes = _clean_attributes(attributes or {})
    user = User(
        username=username,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email.strip(),
        is_demo=is_demo,
    )
    if password is None:
        user.set_unusable_password()
    else:
        check_password_rules(password, user)
        user.set_password(password)
    user.save()
    audit(actor, AuditAction.ACCOUNT_CREATED, obj=user, agency_id=agency.pk)
    profile = StaffProfile.objects.create(
        user=user,
        agency=agency,
        unit=unit,
        title=title,
        phone=phone,
        attributes=cleaned_attributes,
    )
    audit(actor, AuditAction.STAFF_CREATED, obj=profile, agency_id=agency.pk)
    _set_roles(profile, wanted_roles, actor)
    return profile


@action
def update_staff(
    profile: StaffProfile,
    *,
    actor: Actor,
    title: str | None = None,
    phone: str | None = None,
    unit: Unit | None = None,
    clear_unit: bool = False,
    roles: Iterable[str] | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> StaffProfile:
    """Change a staff member's title, phone, unit, roles or attributes. ``None`` leaves a
    field as it is; ``clear_unit`` takes the person out of their unit."""
    _require_manager_of(profile.agency_id, actor)
    changed: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    if unit is not None and unit.agency_id != profile.agency_id:
        errors.append({"field": "unit", "reason": "belongs to another agency"})
    if title is not None:
        title = _clean_text("title", title, errors)
    if phone is not None:
        phone = _clean_text("phone", phone, errors)
    if errors:
        raise InvalidInput("The staff member cannot be changed.", errors=errors)
    wanted_roles = None
    if roles is not None:
        before = StaffRole.objects.filter(profile=profile).values_list("role", flat=True)
        wanted_roles = _clean_roles(roles, actor, before)
    if title is not None and title != profile.title:
        profile.title = title
        changed["title"] = title
    if phone is not None and phone != profile.phone:
        profile.phone = phone
        changed["phone"] = phone
    if (unit is not None or clear_unit) and profile.unit_id != (unit.pk if unit else None):
        profile.unit = unit
        changed["unit"] = unit.pk if unit else None
    if attributes is not None:
        cleaned = _clean_attributes(attributes)
        if cleaned != profile.attributes:
            audit(
                actor,
                AuditAction.ATTRIBUTES_CHANGED,
                obj=profile,
                agency_id=profile.agency_id,
                details={"before": profile.attributes, "after": cleaned},
            )
            profile.attributes = cleaned
    profile.save()
    if changed:
        audit(
            actor,
            AuditAction.STAFF_UPDATED,
            obj=profile,
            agency_id=profile.agency_id,
            details=changed,
        )
    if wanted_roles is not None:
        _set_roles(profile, wanted_roles, actor)
    return profile
