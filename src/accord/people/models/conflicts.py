"""Conflict checks: the parties of a new matter checked against everyone the office knows,
and each possible match (a hit) with its score, explanation and decision."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from accord.core.access import RestrictedQuerySet
from accord.core.actions import ProtectedModel
from accord.core.actors import Actor
from accord.people.access import checks_conflicts_of
from accord.people.models.records import PartyRole, PersonRecord

if TYPE_CHECKING:
    from django_stubs_ext.db.models.manager import RelatedManager


class CheckSource(models.TextChoices):
    FORM = "form", "Form"
    CSV = "csv", "CSV upload"
    API = "api", "API"
    COMMAND = "command", "Command line"
    CASES = "cases", "Case management"


class HitDecision(models.TextChoices):
    """What a lawyer decided about a hit. Stable codes (ABA Model Rules 1.7, 1.9, 1.10)."""

    OPEN = "open", "Not yet decided"
    CLEARED = "cleared", "Cleared: not the same person, or no conflict"
    FLAGGED = "flagged", "Flagged for a supervisor"
    CONFIRMED = "confirmed", "Conflict: goes to conflict counsel"


class ConflictCheckQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> ConflictCheckQuerySet:
        """Only the agency that ran a check sees it (tokens need ``conflicts:check``)."""
        if actor.is_system:
            return self
        agency_id = checks_conflicts_of(actor)
        if agency_id is None:
            return self.none()
        return self.filter(agency_id=agency_id)


class ConflictCheck(ProtectedModel):
    """One run of the parties of a matter against every current and former client and
    party the agency knows (ABA Model Rule 1.10: the whole office counts as one firm)."""

    agency = models.ForeignKey(
        "directory.Agency", on_delete=models.PROTECT, related_name="conflict_checks"
    )
    reference = models.CharField(
        max_length=120, blank=True, default="", help_text="The matter checked (e.g. a case number)"
    )
    source = models.CharField(max_length=16, choices=CheckSource.choices)
    requested_by = models.CharField(max_length=150)
    requested_by_user_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    candidate_count = models.PositiveIntegerField(default=0)
    hit_count = models.PositiveIntegerField(default=0)
    open_count = models.PositiveIntegerField(default=0)
    confirmed_count = models.PositiveIntegerField(default=0)

    objects = ConflictCheckQuerySet.as_manager()

    if TYPE_CHECKING:
        candidates: RelatedManager[ConflictCandidate]
        hits: RelatedManager[ConflictHit]

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["agency", "-created_at"], name="conflict_check_recent")]

    def __str__(self) -> str:
        return f"conflict check #{self.pk}"

    @property
    def outcome(self) -> str:
        if self.confirmed_count:
            return "conflict"
        if self.open_count:
            return "open"
        return "clear"


class ConflictCandidate(ProtectedModel):
    """One party of the new matter, as checked."""

    check_run = models.ForeignKey(
        ConflictCheck, on_delete=models.CASCADE, related_name="candidates"
    )
    row = models.PositiveIntegerField(help_text="Line in the uploaded file, or position")
    first_name = models.CharField(max_length=100, blank=True, default="")
    middle_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    role = models.CharField(max_length=32, choices=PartyRole.choices, blank=True, default="")

    objects = RestrictedQuerySet.as_manager()

    if TYPE_CHECKING:
        hits: RelatedManager[ConflictHit]

    class Meta:
        ordering = ["row", "pk"]

    def __str__(self) -> str:
        return f"party {self.row} of {self.check_run}"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)


class ConflictHitQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> ConflictHitQuerySet:
        if actor.is_system:
            return self
        agency_id = checks_conflicts_of(actor)
        if agency_id is None:
            return self.none()
        return self.filter(check_run__agency_id=agency_id)


class ConflictHit(ProtectedModel):
    """A person the office knows who may be the party checked, ranked by score, with the
    words that say why and the roles the person has had in the office's matters."""

    check_run = models.ForeignKey(ConflictCheck, on_delete=models.CASCADE, related_name="hits")
    candidate = models.ForeignKey(ConflictCandidate, on_delete=models.CASCADE, related_name="hits")
    record = models.ForeignKey(PersonRecord, on_delete=models.PROTECT, related_name="+")
    score = models.FloatField()
    explanation = models.CharField(max_length=300)
    matched_name = models.CharField(max_length=300)
    roles_summary = models.CharField(max_length=500, blank=True, default="")
    decision = models.CharField(
        max_length=16, choices=HitDecision.choices, default=HitDecision.OPEN
    )
    decided_by = models.CharField(max_length=150, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=1000, blank=True, default="")

    objects = ConflictHitQuerySet.as_manager()

    class Meta:
        ordering = ["candidate__row", "-score", "pk"]

    def __str__(self) -> str:
        return f"conflict hit #{self.pk}"
