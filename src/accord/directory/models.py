"""The partnership's directory: agencies, their units, and the staff who act for them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from accord.core.access import RestrictedQuerySet
from accord.core.actions import ProtectedModel
from accord.core.actors import Actor

if TYPE_CHECKING:
    from django_stubs_ext.db.models.manager import RelatedManager


class AgencyKind(models.TextChoices):
    PUBLIC_DEFENDER = "public_defender", "Public defender"
    COURT = "court", "Court"
    PROSECUTOR = "prosecutor", "Prosecutor"
    LAW_ENFORCEMENT = "law_enforcement", "Law enforcement"
    JAIL = "jail", "Jail"
    PROBATION = "probation", "Probation"
    SERVICE_PROVIDER = "service_provider", "Service provider"
    COMMUNITY_ORGANIZATION = "community_organization", "Community organization"
    COORDINATING_COUNCIL = "coordinating_council", "Coordinating council"


class AgencyStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"


class Role(models.TextChoices):
    """Staff roles. Stable codes: policies and agreements refer to them."""

    ATTORNEY = "attorney", "Attorney"
    INVESTIGATOR = "investigator", "Investigator"
    SOCIAL_WORKER = "social_worker", "Social worker"
    SUPERVISOR = "supervisor", "Supervisor"
    AGENCY_ADMIN = "agency_admin", "Agency administrator"
    COORDINATOR = "coordinator", "Coordinator"
    AUDITOR = "auditor", "Auditor"
    CLERK = "clerk", "Clerk"
    OFFICER = "officer", "Officer"
    CASE_WORKER = "case_worker", "Case worker"


class StaffAttribute(models.TextChoices):
    """Attributes agreements may require of a recipient (e.g. "only sworn officers")."""

    BAR_NUMBER = "bar_number", "Bar number"
    SWORN_OFFICER = "sworn_officer", "Sworn officer"
    PART2_PROGRAM = "part2_program", "42 CFR Part 2 program staff"
    BADGE_NUMBER = "badge_number", "Badge number"
    LICENSED_CLINICIAN = "licensed_clinician", "Licensed clinician"


class AccountStatus(models.TextChoices):
    """Whether a staff member's account can sign in (derived, never stored)."""

    ACTIVE = "active", "Active"
    DISABLED = "disabled", "Disabled"
    LOCKED = "locked", "Locked"


# Which attributes are yes/no and which carry text.
BOOLEAN_ATTRIBUTES = frozenset(
    {StaffAttribute.SWORN_OFFICER, StaffAttribute.PART2_PROGRAM, StaffAttribute.LICENSED_CLINICIAN}
)


# The scope an agency system's API token needs to change its own agency's directory.
DIRECTORY_WRITE_SCOPE = "directory:write"


def may_manage_all(actor: Actor) -> bool:
    """Coordinators (people, never tokens) manage the whole partnership's directory."""
    return actor.is_system or (actor.scopes is None and actor.has_role(Role.COORDINATOR))


def managed_agency_id(actor: Actor) -> int | None:
    """The one agency whose units, staff and contact details ``actor`` administers, if any.

    An agency administrator manages their own agency; so does an agency system's API token
    holding ``directory:write`` (it provisions the agency's own staff). Nobody from a
    suspended agency manages anything until the agency is reinstated.
    """
    if actor.agency_id is None or actor.attributes.get("agency_suspended"):
        return None
    if actor.scopes is None and actor.has_role(Role.AGENCY_ADMIN):
        return actor.agency_id
    if actor.token_id is not None and actor.has_scope(DIRECTORY_WRITE_SCOPE):
        return actor.agency_id
    return None


def may_manage_agency(actor: Actor, agency_id: int) -> bool:
    """The single rule behind every directory write and every "Edit" button."""
    return may_manage_all(actor) or managed_agency_id(actor) == agency_id


def _terms(q: str) -> list[str]:
    # At most a few words: each must match, so "ana rivera" finds Ana Rivera.
    return [t for t in q.split() if t][:5]


class AgencyQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> AgencyQuerySet:
        """The directory of agencies is open to every signed-in member of the partnership."""
        if actor.is_system or actor.agency_id is not None:
            return self
        return self.none()

    def manageable_by(self, actor: Actor) -> AgencyQuerySet:
        if may_manage_all(actor):
            return self
        own = managed_agency_id(actor)
        return self.filter(pk=own) if own is not None else self.none()

    def search(self, q: str) -> AgencyQuerySet:
        """Agencies whose name, short name, jurisdiction or identifier contain every word."""
        result = self
        for term in _terms(q):
            result = result.filter(
                Q(name__icontains=term)
                | Q(short_name__icontains=term)
                | Q(jurisdiction__icontains=term)
                | Q(identifier__icontains=term)
            )
        return result


class Agency(ProtectedModel):
    """A party to the partnership: a defender office, court, jail, provider, council…"""

    name = models.CharField(max_length=200, unique=True)
    short_name = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=32, choices=AgencyKind.choices)
    jurisdiction = models.CharField(max_length=120)
    identifier = models.CharField(
        max_length=40, blank=True, default="", help_text="ORI, NPI, court code or similar"
    )
    status = models.CharField(
        max_length=16, choices=AgencyStatus.choices, default=AgencyStatus.ACTIVE
    )
    email = models.EmailField(blank=True, default="")
    phone = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AgencyQuerySet.as_manager()

    if TYPE_CHECKING:
        units: RelatedManager[Unit]
        staff: RelatedManager[StaffProfile]

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "identifier"],
                condition=~Q(identifier=""),
                name="agency_identifier_unique_per_kind",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_suspended(self) -> bool:
        return self.status == AgencyStatus.SUSPENDED


class UnitQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> UnitQuerySet:
        if actor.is_system or actor.agency_id is not None:
            return self
        return self.none()


class Unit(ProtectedModel):
    """A part of an agency (a felony trial team, the booking desk, a clinic)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="units")
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True, default="")

    objects = UnitQuerySet.as_manager()

    class Meta:
        ordering = ["agency__name", "name"]
        constraints = [models.UniqueConstraint(fields=["agency", "name"], name="unit_unique_name")]

    def __str__(self) -> str:
        return f"{self.agency.short_name} · {self.name}"


class StaffQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> StaffQuerySet:
        """Names, agencies and roles of partnership staff are visible to all members."""
        if actor.is_system or actor.agency_id is not None:
            return self
        return self.none()

    def manageable_by(self, actor: Actor) -> StaffQuerySet:
        if may_manage_all(actor):
            return self
        own = managed_agency_id(actor)
        return self.filter(agency_id=own) if own is not None else self.none()

    def with_roles(self) -> StaffQuerySet:
        return self.select_related("user", "agency", "unit").prefetch_related("role_rows")

    def search(self, q: str, *, actor: Actor) -> StaffQuerySet:
        """Staff whose first or last name, title or username contain every word.

        Usernames are sign-in identifiers, readable only to those who manage the account,
        so a username matches only within the agencies ``actor`` manages: searching must
        not reveal what the page would not show.
        """
        result = self
        if may_manage_all(actor):
            username_scope = Q()
        else:
            own = managed_agency_id(actor)
            username_scope = Q(agency_id=own) if own is not None else Q(pk__in=[])
        for term in _terms(q):
            result = result.filter(
                Q(user__first_name__icontains=term)
                | Q(user__last_name__icontains=term)
                | Q(title__icontains=term)
                | (Q(user__username__icontains=term) & username_scope)
            )
        return result


class StaffProfile(ProtectedModel):
    """A person acting for one agency, with roles and attributes policies can read."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="staff")
    unit = models.ForeignKey(
        Unit, on_delete=models.SET_NULL, null=True, blank=True, related_name="staff"
    )
    title = models.CharField(max_length=120, blank=True, default="")
    phone = models.CharField(max_length=40, blank=True, default="")
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StaffQuerySet.as_manager()

    if TYPE_CHECKING:
        role_rows: RelatedManager[StaffRole]

    class Meta:
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self) -> str:
        return f"{self.user.get_full_name() or self.user.username} ({self.agency.short_name})"

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(r.role for r in self.role_rows.all())

    @property
    def sorted_roles(self) -> list[str]:
        return sorted(self.roles)

    @property
    def role_labels(self) -> list[str]:
        return [Role(r).label for r in self.sorted_roles if r in Role.values]

    @property
    def account_status(self) -> AccountStatus:
        """Whether the person can sign in; readable only to those who manage the account."""
        if not self.user.is_active:
            return AccountStatus.DISABLED
        if self.user.locked_at is not None:
            return AccountStatus.LOCKED
        return AccountStatus.ACTIVE

    def attribute(self, name: str) -> Any:
        return self.attributes.get(name)


class StaffRole(ProtectedModel):
    """One role held by one staff member (a row each, so SQL can filter on roles)."""

    profile = models.ForeignKey(StaffProfile, on_delete=models.CASCADE, related_name="role_rows")
    role = models.CharField(max_length=32, choices=Role.choices)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["role"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "role"], name="staff_role_unique")
        ]

    def __str__(self) -> str:
        return self.role
