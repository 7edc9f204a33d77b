"""What partner agencies' events did to the defender's records: each jail, court or probation
event an agreement let the office receive leaves one row per client it is about, saying
what it changed (or why it changed nothing), from whom, and under which clause."""

from __future__ import annotations

from django.db import models

from accord.cases.access import restrict_to_cases
from accord.core.access import RestrictedQuerySet
from accord.core.actions import ProtectedModel
from accord.core.actors import Actor


class PartnerChange(models.TextChoices):
    """What an event did. Stable codes: pages and the audit log refer to them."""

    CUSTODY_BEGAN = "custody_began", "Booked into custody"
    CUSTODY_ENDED = "custody_ended", "Released from custody"
    CUSTODY_MOVED = "custody_moved", "Moved to another facility"
    CUSTODY_MATCHED = "custody_matched", "Booking matched to the custody on record"
    CUSTODY_HISTORY = "custody_history", "Past custody recorded"
    HEARING_SCHEDULED = "hearing_scheduled", "Hearing scheduled"
    HEARING_MOVED = "hearing_moved", "Hearing continued"
    HEARING_CANCELLED = "hearing_cancelled", "Hearing cancelled"
    HEARING_HELD = "hearing_held", "Hearing held"
    DISPOSITION = "disposition", "Disposition recorded"
    SENTENCE = "sentence", "Sentence recorded"
    WARRANT_ISSUED = "warrant_issued", "Warrant issued"
    WARRANT_RECALLED = "warrant_recalled", "Warrant recalled"
    VIOLATION_FILED = "violation_filed", "Probation violation filed"
    SUPERVISION_STARTED = "supervision_started", "Supervision started"
    SUPERVISION_ENDED = "supervision_ended", "Supervision ended"
    ALREADY_KNOWN = "already_known", "Already on record"
    ARRIVED_LATE = "arrived_late", "Arrived late: a newer event already decided this"
    NOT_MATCHED = "not_matched", "Nothing on record to change"


# The changes that altered a record (the others are kept as history of what arrived).
CHANGED = frozenset(
    {
        PartnerChange.CUSTODY_BEGAN,
        PartnerChange.CUSTODY_ENDED,
        PartnerChange.CUSTODY_MOVED,
        PartnerChange.CUSTODY_MATCHED,
        PartnerChange.CUSTODY_HISTORY,
        PartnerChange.HEARING_SCHEDULED,
        PartnerChange.HEARING_MOVED,
        PartnerChange.HEARING_CANCELLED,
        PartnerChange.HEARING_HELD,
        PartnerChange.DISPOSITION,
        PartnerChange.SENTENCE,
        PartnerChange.WARRANT_ISSUED,
        PartnerChange.WARRANT_RECALLED,
        PartnerChange.VIOLATION_FILED,
        PartnerChange.SUPERVISION_STARTED,
        PartnerChange.SUPERVISION_ENDED,
    }
)


class PartnerUpdateQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> PartnerUpdateQuerySet:
        """Like the client's other records: the office's case staff, minus screens."""
        return restrict_to_cases(self, actor, agency="agency_id", client_number="client__number")


class PartnerUpdate(ProtectedModel):
    """One partner agency's event applied to one client's records of the defender. Unique
    per event and client, so applying an event again changes nothing."""

    agency = models.ForeignKey("directory.Agency", on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(
        "cases.Client", on_delete=models.CASCADE, related_name="partner_updates"
    )
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="partner_updates",
    )
    court_event = models.ForeignKey(
        "cases.CourtEvent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    custody = models.ForeignKey(
        "cases.CustodyStatus", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    event = models.ForeignKey("exchange.Event", on_delete=models.PROTECT, related_name="+")
    source_agency = models.ForeignKey(
        "directory.Agency", on_delete=models.PROTECT, related_name="+"
    )
    event_code = models.CharField(max_length=64)
    # The booking number or court case number the event named.
    reference = models.CharField(max_length=80, blank=True, default="")
    occurred_at = models.DateTimeField()
    change = models.CharField(max_length=24, choices=PartnerChange.choices)
    summary = models.CharField(max_length=300)
    basis = models.TextField(help_text="the agreement clauses that let the office receive it")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PartnerUpdateQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "client"], name="partner_update_once")
        ]
        indexes = [
            models.Index(fields=["client", "-occurred_at"], name="partner_update_client"),
            models.Index(fields=["case", "-occurred_at"], name="partner_update_case"),
        ]

    def __str__(self) -> str:
        return f"partner update #{self.pk} of {self.client}"

    @property
    def changed(self) -> bool:
        return self.change in CHANGED
