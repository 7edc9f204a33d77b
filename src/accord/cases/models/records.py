"""The defender's case records: clients, cases, charges, court events, custody, the team
assigned, and the other parties to a case."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from django.utils import timezone

from accord.cases.access import restrict_to_cases
from accord.core.access import RestrictedQuerySet
from accord.core.actions import ProtectedModel
from accord.core.actors import Actor

if TYPE_CHECKING:
    from django_stubs_ext.db.models.manager import RelatedManager


def _terms(q: str) -> list[str]:
    # At most a few words: each must match, so "rivera 2025" finds Rivera's 2025 cases.
    return [t for t in q.split() if t][:5]


def _person_matches(term: str, prefix: str) -> Q:
    from accord.people.models import PersonAlias

    return (
        Q(**{f"{prefix}first_name__icontains": term})
        | Q(**{f"{prefix}last_name__icontains": term})
        | Q(
            **{
                f"{prefix}pk__in": PersonAlias.objects.filter(
                    Q(first_name__icontains=term) | Q(last_name__icontains=term)
                ).values("record_id")
            }
        )
    )


# --- clients ---------------------------------------------------------------------------------


class ClientQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> ClientQuerySet:
        return restrict_to_cases(self, actor, agency="agency_id", client_number="number")

    def search(self, q: str) -> ClientQuerySet:
        """Clients whose names, aliases or client number contain every word."""
        result = self
        for term in _terms(q):
            result = result.filter(Q(number__icontains=term) | _person_matches(term, "person__"))
        return result


class Client(ProtectedModel):
    """A client of the defender: the person as the defender knows them (a people record of
    the defender agency) under the office's client number."""

    agency = models.ForeignKey("directory.Agency", on_delete=models.PROTECT, related_name="+")
    person = models.OneToOneField(
        "people.PersonRecord", on_delete=models.PROTECT, related_name="defender_client"
    )
    number = models.CharField(max_length=40, help_text="The office's client number")
    # Probation supervision as the probation agency's events tell it (``cases.partners``):
    # since when, by whom, until when expected, and when it ended (kept once over).
    supervision_since = models.DateField(null=True, blank=True)
    supervision_agency = models.ForeignKey(
        "directory.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    supervision_officer = models.CharField(max_length=200, blank=True, default="")
    supervision_ends_on = models.DateField(null=True, blank=True, help_text="expected end")
    supervision_ended_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClientQuerySet.as_manager()

    if TYPE_CHECKING:
        cases: RelatedManager[Case]
        custody: RelatedManager[CustodyStatus]

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "number"], name="client_number_unique")
        ]

    def __str__(self) -> str:
        # No name: this is what the audit log records as the object's label.
        return f"client {self.number}"

    @property
    def on_supervision(self) -> bool:
        return self.supervision_since is not None and self.supervision_ended_on is None


class CustodyStatusQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> CustodyStatusQuerySet:
        return restrict_to_cases(
            self, actor, agency="client__agency_id", client_number="client__number"
        )


class CustodyStatus(ProtectedModel):
    """A spell in custody of a client: since when, where, on what bond, until release."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="custody")
    case = models.ForeignKey(
        "cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    in_custody_since = models.DateField()
    facility = models.CharField(max_length=200)
    bond_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    bond_terms = models.CharField(
        max_length=200, blank=True, default="", help_text="e.g. cash only, no bond, ROR"
    )
    released_on = models.DateField(null=True, blank=True)
    # Set when the jail's events keep this spell: its booking, and when the newest event
    # that changed it happened (an older event arriving late must not undo a newer one).
    booking_number = models.CharField(max_length=80, blank=True, default="")
    changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CustodyStatusQuerySet.as_manager()

    class Meta:
        ordering = ["-in_custody_since", "-pk"]
        indexes = [models.Index(fields=["client", "released_on"], name="custody_current")]
        verbose_name_plural = "custody statuses"

    def __str__(self) -> str:
        return f"custody #{self.pk} of {self.client}"

    @property
    def in_custody(self) -> bool:
        return self.released_on is None


# --- cases -----------------------------------------------------------------------------------


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Disposition(models.TextChoices):
    """How a case or a charge ended. Stable codes: tickler rules refer to them."""

    DISMISSED = "dismissed", "Dismissed"
    ACQUITTED = "acquitted", "Acquitted"
    CONVICTED_PLEA = "convicted_plea", "Convicted on a plea"
    CONVICTED_TRIAL = "convicted_trial", "Convicted at trial"
    DIVERTED = "diverted", "Diversion or deferred adjudication"
    NOLLE = "nolle_prosequi", "Nolle prosequi"
    REDUCED = "reduced", "Reduced to another charge"
    TRANSFERRED = "transferred", "Transferred to another court"
    WITHDRAWN_CONFLICT = "withdrawn_conflict", "Withdrawn: conflict counsel appointed"
    OTHER = "other", "Other"


# A tickler rule may name a group of dispositions: "convicted" is either kind of conviction.
DISPOSITION_GROUPS: dict[str, frozenset[str]] = {
    "convicted": frozenset({Disposition.CONVICTED_PLEA, Disposition.CONVICTED_TRIAL}),
}


class CaseQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> CaseQuerySet:
        return restrict_to_cases(self, actor, agency="agency_id", client_number="client__number")

    def search(self, q: str) -> CaseQuerySet:
        """Cases whose number, client number or client's names contain every word."""
        result = self
        for term in _terms(q):
            result = result.filter(
                Q(number__icontains=term)
                | Q(client__number__icontains=term)
                | _person_matches(term, "client__person__")
            )
        return result

    def assigned_to(self, user_id: int) -> CaseQuerySet:
        """Cases the person is on the team of today. An uncorrelated ``IN`` list: the
        database reads the person's assignments once (index ``assignment_staff``), where a
        correlated EXISTS would read them again for every case."""
        from accord.cases.access import active_on

        return self.filter(
            pk__in=Assignment.objects.filter(active_on(), staff__user_id=user_id).values("case_id")
        )

    def with_conflict_state(self) -> CaseQuerySet:
        """Each case annotated with ``unresolved_hits`` and ``confirmed_conflict``: whether
        a current conflict check hit waits for a decision, and whether one was confirmed
        (the case goes to conflict counsel)."""
        from accord.cases.models.conflicts import current_hits, unresolved_decisions
        from accord.people.models import HitDecision

        hits = current_hits(models.OuterRef("pk"))
        annotated: CaseQuerySet = self.annotate(
            unresolved_hits=models.Exists(hits.filter(decision__in=unresolved_decisions())),
            confirmed_conflict=models.Exists(hits.filter(decision=HitDecision.CONFIRMED)),
        )
        return annotated


class Case(ProtectedModel):
    """One court case in which the defender represents a client: its court, its number,
    the workload case type it counts as, and how it ended."""

    agency = models.ForeignKey("directory.Agency", on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="cases")
    number = models.CharField(max_length=40, help_text="The court's case number")
    court = models.ForeignKey("directory.Agency", on_delete=models.PROTECT, related_name="+")
    case_type = models.ForeignKey("cases.CaseType", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    opened_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    disposition = models.CharField(
        max_length=32, choices=Disposition.choices, blank=True, default=""
    )
    disposition_on = models.DateField(null=True, blank=True)
    # The sentence as the court's event said it, and the day it was imposed.
    sentence = models.CharField(max_length=1000, blank=True, default="")
    sentenced_on = models.DateField(null=True, blank=True)
    # An outstanding warrant the court told the office of (cleared when recalled), and the
    # partner update that set it: who issued it, under which clause.
    warrant_issued_at = models.DateTimeField(null=True, blank=True)
    warrant_reference = models.CharField(max_length=80, blank=True, default="")
    warrant_source = models.ForeignKey(
        "cases.PartnerUpdate", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    if TYPE_CHECKING:
        charges: RelatedManager[Charge]
        events: RelatedManager[CourtEvent]
        assignments: RelatedManager[Assignment]
        parties: RelatedManager[Party]

    class Meta:
        ordering = ["-opened_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "court", "number"], name="case_number_unique_per_court"
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=models.F("opened_on")),
                name="case_closed_after_opened",
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "status", "-opened_on"], name="case_agency_status"),
            models.Index(fields=["client", "-opened_on"], name="case_client"),
            models.Index(fields=["number"], name="case_number"),
        ]

    def __str__(self) -> str:
        return f"case {self.number}"

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN

    @property
    def warrant_outstanding(self) -> bool:
        return self.warrant_issued_at is not None

    @property
    def reference(self) -> str:
        """How the people app's roles and conflict checks name this case."""
        return f"{self.number} ({self.court.short_name})"[:80]


class ChargeLevel(models.TextChoices):
    FELONY = "felony", "Felony"
    MISDEMEANOR = "misdemeanor", "Misdemeanor"
    INFRACTION = "infraction", "Infraction"
    ORDINANCE = "ordinance", "Ordinance violation"


class ChargeDisposition(models.TextChoices):
    """A charge's outcome; the same codes as :class:`Disposition`, plus pending."""

    PENDING = "pending", "Pending"
    DISMISSED = Disposition.DISMISSED.value, Disposition.DISMISSED.label
    ACQUITTED = Disposition.ACQUITTED.value, Disposition.ACQUITTED.label
    CONVICTED_PLEA = Disposition.CONVICTED_PLEA.value, Disposition.CONVICTED_PLEA.label
    CONVICTED_TRIAL = Disposition.CONVICTED_TRIAL.value, Disposition.CONVICTED_TRIAL.label
    DIVERTED = Disposition.DIVERTED.value, Disposition.DIVERTED.label
    NOLLE = Disposition.NOLLE.value, Disposition.NOLLE.label
    REDUCED = Disposition.REDUCED.value, Disposition.REDUCED.label
    OTHER = Disposition.OTHER.value, Disposition.OTHER.label


class CaseChildQuerySet(RestrictedQuerySet):
    """Rows that belong to one case: visible exactly when their case is."""

    def visible_to(self, actor: Actor, purpose: str = "operations") -> CaseChildQuerySet:
        return restrict_to_cases(
            self, actor, agency="case__agency_id", client_number="case__client__number"
        )


class Charge(ProtectedModel):
    """One charge of a case: the statute, its level and degree, the number of counts, and
    its disposition."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="charges")
    position = models.PositiveSmallIntegerField(help_text="Charge number in the charging paper")
    statute = models.CharField(max_length=80)
    description = models.CharField(max_length=300)
    level = models.CharField(max_length=16, choices=ChargeLevel.choices)
    degree = models.CharField(max_length=30, blank=True, default="", help_text="e.g. Class B")
    counts = models.PositiveSmallIntegerField(default=1)
    disposition = models.CharField(
        max_length=32, choices=ChargeDisposition.choices, default=ChargeDisposition.PENDING
    )
    disposition_on = models.DateField(null=True, blank=True)

    objects = CaseChildQuerySet.as_manager()

    class Meta:
        ordering = ["case", "position"]
        constraints = [
            models.UniqueConstraint(fields=["case", "position"], name="charge_position_unique"),
            models.CheckConstraint(condition=Q(counts__gte=1), name="charge_counts_positive"),
        ]

    def __str__(self) -> str:
        return f"charge {self.position} of {self.case}"


class EventKind(models.TextChoices):
    """Kinds of court settings. Stable codes: tickler rules and calendars refer to them."""

    FIRST_APPEARANCE = "first_appearance", "First appearance"
    ARRAIGNMENT = "arraignment", "Arraignment"
    BOND_HEARING = "bond_hearing", "Bond hearing"
    PRETRIAL = "pretrial", "Pretrial conference"
    MOTION = "motion", "Motion hearing"
    PLEA = "plea", "Plea hearing"
    TRIAL = "trial", "Trial"
    SENTENCING = "sentencing", "Sentencing"
    REVIEW = "review", "Review hearing"
    PROBATION_VIOLATION = "probation_violation", "Probation violation hearing"
    OTHER = "other", "Other setting"


class EventStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    HELD = "held", "Held"
    CONTINUED = "continued", "Continued"
    CANCELLED = "cancelled", "Cancelled"


class CourtEvent(ProtectedModel):
    """A court setting of a case: when, where, and what came of it."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    starts_at = models.DateTimeField()
    courtroom = models.CharField(max_length=60, blank=True, default="")
    status = models.CharField(
        max_length=16, choices=EventStatus.choices, default=EventStatus.SCHEDULED
    )
    result = models.CharField(max_length=1000, blank=True, default="")
    continued_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # When the status was last decided (the court's event time, or the moment a person
    # recorded it): an older court event arriving late does not overwrite it.
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # RFC 5545 SEQUENCE: raised whenever the time or status changes, so calendar programs
    # replace their copy of the setting instead of keeping a stale one.
    sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseChildQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["case", "starts_at"], name="event_case_time"),
            models.Index(fields=["starts_at", "status"], name="event_time_status"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} in {self.case}"

    @property
    def upcoming(self) -> bool:
        return self.status == EventStatus.SCHEDULED and self.starts_at >= timezone.now()


class TeamRole(models.TextChoices):
    """Who works on a case. Stable codes: workload reports count them."""

    ATTORNEY = "attorney", "Attorney"
    INVESTIGATOR = "investigator", "Investigator"
    SOCIAL_WORKER = "social_worker", "Social worker"


class Assignment(ProtectedModel):
    """A staff member on a case's team, from one date to another (open-ended while on it)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    staff = models.ForeignKey(
        "directory.StaffProfile", on_delete=models.PROTECT, related_name="case_assignments"
    )
    role = models.CharField(max_length=16, choices=TeamRole.choices)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    assigned_by = models.CharField(max_length=150)

    objects = CaseChildQuerySet.as_manager()

    class Meta:
        ordering = ["role", "starts_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "staff", "role"],
                condition=Q(ends_on__isnull=True),
                name="assignment_one_open_per_role",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="assignment_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["staff", "ends_on", "case"], name="assignment_staff"),
        ]

    def __str__(self) -> str:
        return f"{self.role} assignment on {self.case}"

    @property
    def active(self) -> bool:
        today = timezone.localdate()
        return self.starts_on <= today and (self.ends_on is None or self.ends_on >= today)


class PartyQuerySet(CaseChildQuerySet):
    def present(self) -> PartyQuerySet:
        return self.filter(removed_at__isnull=True)


class Party(ProtectedModel):
    """Another person in a case (co-defendant, victim, witness, informant), as a people
    record of the defender, so conflict checks find them in later matters (ABA Model
    Rules 1.7, 1.9)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties")
    person = models.ForeignKey("people.PersonRecord", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=32)
    added_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    objects = PartyQuerySet.as_manager()

    class Meta:
        ordering = ["role", "pk"]
        indexes = [models.Index(fields=["case", "removed_at"], name="party_case")]
        verbose_name_plural = "parties"

    def __str__(self) -> str:
        return f"party #{self.pk} of {self.case}"

    @property
    def role_label(self) -> str:
        from accord.people.models import PartyRole

        return str(dict(PartyRole.choices).get(self.role, self.role))
