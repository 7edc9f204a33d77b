"""How a case's conflict checks tie to the people app's checks: which check ran for which
case and why, and which party of the case each checked candidate was."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import QuerySet

from accord.core.access import RestrictedQuerySet
from accord.core.actions import ProtectedModel
from accord.core.actors import Actor


class CheckTrigger(models.TextChoices):
    """Why a case's parties were checked (ABA Model Rules 1.7, 1.9, 1.10)."""

    OPENED = "opened", "Case opened"
    ASSIGNED = "assigned", "Team member assigned"
    PARTIES_CHANGED = "parties_changed", "Party list changed"
    REQUESTED = "requested", "Checked again on request"


class CaseConflictCheck(ProtectedModel):
    """One conflict check run for a case."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="checks")
    check_run = models.OneToOneField(
        "people.ConflictCheck", on_delete=models.PROTECT, related_name="case_check"
    )
    trigger = models.CharField(max_length=20, choices=CheckTrigger.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"conflict check #{self.check_run_id} of {self.case}"


class CaseConflictSubject(ProtectedModel):
    """One checked candidate of a case's check: the client (no party) or one party. Only
    the latest check of each subject is ``current``: its hits are the ones that count."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    case_check = models.ForeignKey(
        CaseConflictCheck, on_delete=models.CASCADE, related_name="subjects"
    )
    candidate = models.OneToOneField(
        "people.ConflictCandidate", on_delete=models.PROTECT, related_name="case_subject"
    )
    party = models.ForeignKey(
        "cases.Party", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    current = models.BooleanField(default=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["case", "current"], name="conflict_subject_current")]

    def __str__(self) -> str:
        return f"conflict subject #{self.pk} of {self.case}"


def unresolved_decisions() -> list[str]:
    from accord.people.models import HitDecision

    return [HitDecision.OPEN, HitDecision.FLAGGED]


def current_hits(case: Any) -> QuerySet[Any]:
    """The hits that count for a case (an id, a case, or an ``OuterRef``): those of the
    latest check of each of its present subjects."""
    from accord.people.models import ConflictHit

    return ConflictHit.objects.filter(
        candidate__case_subject__case=case, candidate__case_subject__current=True
    )


def hits_visible_to(actor: Actor, case: Any) -> QuerySet[Any]:
    """The current hits of ``case`` that ``actor`` may read through the people app."""
    from accord.people.models import ConflictHit

    return current_hits(case).filter(pk__in=ConflictHit.objects.visible_to(actor).values("pk"))
