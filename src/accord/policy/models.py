"""The decision point's data: what records exist (as the policy sees them), who is screened
from which client, which disclosures happened, and the version of everything decisions
depend on.

``Disclosure`` belongs with the accounting of disclosures; it lives here rather than in
``audit`` while the audit app is being finished by another engineer, and can move with a
migration that keeps its table.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from accord.core.access import Purpose, RestrictedQuerySet
from accord.core.actions import ProtectedModel
from accord.core.actors import Actor
from accord.policy import codesets
from accord.policy.vocabulary import DataCategory, PolicyAction, effective_labels


class PolicyVersion(models.Model):
    """One row whose ``token`` changes whenever anything a decision depends on changes
    (an agreement, a consent, a screen, an agency's status). Every process compares it
    with the token of the policy set it holds, once per decision batch, and rebuilds when
    they differ. A random token rather than a bare counter: a rolled-back change in one
    process must never let a stale set pass for a committed one elsewhere.

    Not a protected model: it carries no state of its own, only "something changed"."""

    counter = models.BigIntegerField(default=0)
    token = models.CharField(max_length=32, default="initial")
    changed_at = models.DateTimeField(auto_now=True)
    reason = models.CharField(max_length=120, blank=True, default="")

    def __str__(self) -> str:
        return f"policy version {self.counter}"


class ClientRecordQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = Purpose.OPERATIONS) -> ClientRecordQuerySet:
        """The same rules as ``decide`` for the view action, as one SQL filter."""
        from accord.policy.access import restrict_records

        return restrict_records(self, actor, purpose)  # type: ignore[return-value]


class ClientRecord(ProtectedModel):
    """One item of client information an agency holds (a booking, a hearing, a treatment
    note), as the decision point sees it: whose it is, about which client, what category,
    which labels. Later apps (cases, exchange) register their rows here or expose the same
    four attributes."""

    owner = models.ForeignKey(
        "directory.Agency", on_delete=models.PROTECT, related_name="client_records"
    )
    client_key = models.CharField(max_length=64, db_index=True)
    category = models.CharField(max_length=32, choices=DataCategory.choices)
    labels = models.CharField(max_length=200, blank=True, default="")
    summary = models.CharField(max_length=300)
    source_ref = models.CharField(max_length=120, blank=True, default="")
    recorded_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClientRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "category"]),
            models.Index(fields=["category", "owner"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} · {self.client_key}"

    @property
    def label_set(self) -> frozenset[str]:
        return effective_labels(self.category, frozenset(codesets.decode(self.labels)))


class EthicalScreenQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = Purpose.OPERATIONS) -> EthicalScreenQuerySet:
        """The screening agency's supervisors, administrators and auditors, and the person
        screened (who must know to stay away)."""
        if actor.is_system:
            return self
        if actor.agency_id is None or actor.scopes is not None:
            return self.none()
        mine = models.Q(staff_id=actor.user_id)
        if actor.has_role("supervisor", "agency_admin", "auditor"):
            mine |= models.Q(agency_id=actor.agency_id)
        return self.filter(mine)

    def in_force(self) -> EthicalScreenQuerySet:
        return self.filter(lifted_at__isnull=True)


class EthicalScreen(ProtectedModel):
    """A staff member walled off from a client (ABA Model Rule 1.10 screening): every
    decision about that client's records denies them, in their own agency too."""

    agency = models.ForeignKey(
        "directory.Agency", on_delete=models.PROTECT, related_name="ethical_screens"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ethical_screens"
    )
    client_key = models.CharField(max_length=64, db_index=True)
    reason = models.CharField(max_length=300)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.CharField(max_length=150, blank=True, default="")
    lift_reason = models.CharField(max_length=300, blank=True, default="")

    objects = EthicalScreenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["staff", "client_key"],
                condition=models.Q(lifted_at__isnull=True),
                name="one_screen_in_force_per_staff_and_client",
            )
        ]

    def __str__(self) -> str:
        return f"screen of user {self.staff_id} from {self.client_key}"

    @property
    def in_force(self) -> bool:
        return self.lifted_at is None


class DisclosureQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = Purpose.AUDIT) -> DisclosureQuerySet:
        from accord.policy.access import restrict_disclosures

        return restrict_disclosures(self, actor)  # type: ignore[return-value]

    def update(self, **kwargs: Any) -> int:
        raise RuntimeError("disclosures are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise RuntimeError("disclosures are append-only")


class Disclosure(ProtectedModel):
    """One allowed flow of a client's information across an agency boundary: who, to whom,
    which client, which categories, for what purpose, on which legal basis (agreement
    clause and consent), when. The accounting of disclosures is built from these rows
    (42 CFR 2.24; HIPAA 45 CFR 164.528). Append-only."""

    occurred_at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=16, choices=PolicyAction.choices)
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    discloser = models.ForeignKey(
        "directory.Agency", on_delete=models.PROTECT, related_name="disclosures_made"
    )
    recipient = models.ForeignKey(
        "directory.Agency", on_delete=models.PROTECT, related_name="disclosures_received"
    )
    recipient_label = models.CharField(max_length=150)
    recipient_user_id = models.BigIntegerField(null=True, blank=True)
    recipient_token_id = models.BigIntegerField(null=True, blank=True)
    client_key = models.CharField(max_length=64, db_index=True)
    categories = models.JSONField(default=list)
    record_refs = models.JSONField(default=list, blank=True)
    # The legal basis as it stood at the time: policy ids, agreement references and
    # clauses in words, consent ids. Copied, not linked: later edits must not rewrite it.
    basis = models.JSONField(default=list)
    consent_ids = models.JSONField(default=list, blank=True)
    redisclosure_allowed = models.BooleanField(default=False)
    retain_until = models.DateField(null=True, blank=True)
    # The 42 CFR 2.32 notice, when Part 2 records were disclosed.
    notice = models.TextField(blank=True, default="")
    request_id = models.CharField(max_length=64, blank=True, default="")

    objects = DisclosureQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["client_key", "occurred_at"]),
            models.Index(fields=["recipient", "occurred_at"]),
            models.Index(fields=["discloser", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"disclosure {self.pk} about {self.client_key}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RuntimeError("disclosures are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("disclosures are append-only")

    @property
    def category_labels(self) -> list[str]:
        from accord.policy.vocabulary import category_label

        return [category_label(c) for c in self.categories]
