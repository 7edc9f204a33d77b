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


# Which attributes are yes/no and which carry text.
BOOLEAN_ATTRIBUTES = frozenset(
    {StaffAttribute.SWORN_OFFICER, StaffAttribute.PART2_PROGRAM, StaffAttribute.LICENSED_CLINICIAN}
)


def _may_manage_all(actor: Actor) -> bool:
    return actor.is_system or actor.has_role(Role.COORDINATOR)


class AgencyQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> AgencyQuerySet:
        """The directory of agencies is open to every signed-in member of the partnership."""
        if actor.is_system or actor.agency_id is not None:
            return self
        return self.none()

    def manageable_by(self, actor: Actor) -> AgencyQuerySet:
        if _may_manage_all(actor):
            return self
        if actor.has_role(Role.AGENCY_ADMIN):
            return self.filter(pk=actor.agency_id)
        return self.none()


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
        if _may_manage_all(actor):
            return self
        if actor.has_role(Role.AGENCY_ADMIN):
            return self.filter(agency_id=actor.agency_id)
        return self.none()

    def with_roles(self) -> StaffQuerySet:
        return self.select_related("user", "agency", "unit").prefetch_related("role_rows")


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
