"""Ticklers: deadlines a case's events set off, by rules the office keeps as data
("notice of appeal 30 days after a conviction", "discovery 14 days after arraignment")."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from accord.cases.access import restrict_to_cases
from accord.core.access import RestrictedQuerySet
from accord.core.actions import ProtectedModel
from accord.core.actors import Actor


class Trigger(models.TextChoices):
    """What sets a rule off. Stable codes: rules are data that refer to them."""

    CASE_OPENED = "case_opened", "A case is opened"
    CHARGE_DISPOSED = "charge_disposed", "A charge is disposed of (value: disposition)"
    EVENT_SCHEDULED = "event_scheduled", "A court event is scheduled (value: event kind)"
    EVENT_HELD = "event_held", "A court event is held (value: event kind)"
    CUSTODY_BEGAN = "custody_began", "A client is taken into custody"


# Triggers whose rule names a value (a disposition, an event kind); the others take none.
VALUED_TRIGGERS = frozenset({Trigger.CHARGE_DISPOSED, Trigger.EVENT_SCHEDULED, Trigger.EVENT_HELD})


class TicklerRuleQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> TicklerRuleQuerySet:
        """An office's rules are read by its staff (they hold no client information)."""
        if actor.is_system:
            return self
        if actor.agency_id is None or actor.attributes.get("agency_kind") != "public_defender":
            return self.none()
        return self.filter(agency_id=actor.agency_id)

    def active(self) -> TicklerRuleQuerySet:
        return self.filter(active=True)


class TicklerRule(ProtectedModel):
    """A rule of the office: when ``trigger`` (with ``value``) happens on a case, a tickler
    labelled ``label`` falls due ``offset_days`` after (or, negative, before) its date."""

    agency = models.ForeignKey("directory.Agency", on_delete=models.PROTECT, related_name="+")
    trigger = models.CharField(max_length=24, choices=Trigger.choices)
    value = models.CharField(max_length=40, blank=True, default="")
    offset_days = models.SmallIntegerField()
    label = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TicklerRuleQuerySet.as_manager()

    class Meta:
        ordering = ["trigger", "value", "offset_days", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "trigger", "value", "label"], name="tickler_rule_unique"
            )
        ]
        indexes = [models.Index(fields=["agency", "trigger", "active"], name="rule_lookup")]

    def __str__(self) -> str:
        return f"tickler rule #{self.pk}"

    @property
    def description(self) -> str:
        when = "after" if self.offset_days >= 0 else "before"
        value = f" ({self.value})" if self.value else ""
        return f"{abs(self.offset_days)} days {when}: {self.get_trigger_display()}{value}"


class TicklerStatus(models.TextChoices):
    OPEN = "open", "Open"
    COMPLETED = "completed", "Completed"
    DISMISSED = "dismissed", "Dismissed"


class TicklerQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> TicklerQuerySet:
        return restrict_to_cases(
            self, actor, agency="case__agency_id", client_number="case__client__number"
        )

    def open(self) -> TicklerQuerySet:
        return self.filter(status=TicklerStatus.OPEN)


class Tickler(ProtectedModel):
    """A deadline on a case, set off by a rule (or written by hand), until completed or
    dismissed."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="ticklers")
    rule = models.ForeignKey(
        TicklerRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(
        max_length=40, help_text="What set it off, e.g. charge:12 or event:40"
    )
    label = models.CharField(max_length=200)
    due_on = models.DateField()
    status = models.CharField(
        max_length=16, choices=TicklerStatus.choices, default=TicklerStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=150, blank=True, default="")
    close_note = models.CharField(max_length=500, blank=True, default="")

    objects = TicklerQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "case", "source"],
                condition=Q(rule__isnull=False),
                name="tickler_once_per_rule_and_source",
            )
        ]
        indexes = [
            models.Index(fields=["status", "due_on"], name="tickler_due"),
            models.Index(fields=["case", "status"], name="tickler_case"),
        ]

    def __str__(self) -> str:
        return f"tickler #{self.pk} of {self.case}"
