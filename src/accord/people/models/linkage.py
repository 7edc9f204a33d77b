"""Master persons and how agency records link to them: the model's links, the review queue
for uncertain pairs, merges (and their undoing), and the trained linkage model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q

from accord.core.access import RestrictedQuerySet
from accord.core.actions import ProtectedModel
from accord.core.actors import Actor
from accord.people.access import reads_people_of, reviews_for
from accord.people.models.records import PersonRecord

if TYPE_CHECKING:
    from django_stubs_ext.db.models.manager import RelatedManager


class LinkMethod(models.TextChoices):
    """How a record came to belong to its master person. Stable codes."""

    SINGLE = "single", "First record of this person"
    MODEL = "model", "Linked by the matching model"
    REVIEWER = "reviewer", "Linked by a reviewer"
    SEED = "seed", "Linked when the data was seeded"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a decision"
    CONFIRMED = "confirmed", "Same person (merged)"
    SPLIT = "split", "Different people"


class MasterPersonQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> MasterPersonQuerySet:
        """A master person is visible through the records of it the actor may see."""
        if actor.is_system:
            return self
        agency_id = reads_people_of(actor)
        if agency_id is None:
            return self.none()
        return self.filter(
            pk__in=PersonLink.objects.filter(record__agency_id=agency_id).values("master_id")
        )


class MasterPerson(ProtectedModel):
    """One real person, as far as Accord can tell: the records of every agency linked to
    it are believed to describe the same human being."""

    created_at = models.DateTimeField(auto_now_add=True)

    objects = MasterPersonQuerySet.as_manager()

    if TYPE_CHECKING:
        links: RelatedManager[PersonLink]

    def __str__(self) -> str:
        return f"person #{self.pk}"


class PersonLinkQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> PersonLinkQuerySet:
        if actor.is_system:
            return self
        agency_id = reads_people_of(actor)
        if agency_id is None:
            return self.none()
        return self.filter(record__agency_id=agency_id)


class PersonLink(ProtectedModel):
    """Record → master person, with the evidence: the match weight and probability of the
    strongest comparison that put it there, and the fields that agreed."""

    record = models.OneToOneField(PersonRecord, on_delete=models.CASCADE, related_name="link")
    master = models.ForeignKey(MasterPerson, on_delete=models.PROTECT, related_name="links")
    method = models.CharField(max_length=16, choices=LinkMethod.choices)
    match_weight = models.FloatField(null=True, blank=True)
    match_probability = models.FloatField(null=True, blank=True)
    agreed_fields = models.JSONField(default=list, blank=True)
    linked_to = models.ForeignKey(
        PersonRecord,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The record this one was found to match",
    )
    linked_at = models.DateTimeField(auto_now=True)
    linked_by = models.CharField(max_length=150, blank=True, default="")

    objects = PersonLinkQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["master"], name="person_link_master")]

    def __str__(self) -> str:
        return f"{self.record} → {self.master}"


class MatchReviewQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> MatchReviewQuerySet:
        """Reviewers (supervisors, agency administrators) see the uncertain pairs whose two
        records are both their agency's. A pair across agencies waits for the policy issue:
        deciding it would show one agency's record to the other."""
        if actor.is_system:
            return self
        agency_id = reviews_for(actor)
        if agency_id is None:
            return self.none()
        return self.filter(record_a__agency_id=agency_id, record_b__agency_id=agency_id)


class MatchReview(ProtectedModel):
    """An uncertain pair the model would not decide alone: a person confirms (merge) or
    splits it; the decision is kept, audited, and respected by later linkage."""

    record_a = models.ForeignKey(PersonRecord, on_delete=models.CASCADE, related_name="+")
    record_b = models.ForeignKey(PersonRecord, on_delete=models.CASCADE, related_name="+")
    match_weight = models.FloatField()
    match_probability = models.FloatField()
    agreed_fields = models.JSONField(default=list, blank=True)
    comparison = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True, default="")
    note = models.CharField(max_length=500, blank=True, default="")
    merge = models.ForeignKey(
        "people.MasterMerge", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = MatchReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-match_probability", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["record_a", "record_b"], name="match_review_pair"),
            models.CheckConstraint(
                condition=Q(record_a__lt=models.F("record_b")), name="match_review_ordered"
            ),
        ]
        indexes = [models.Index(fields=["status"], name="match_review_status")]

    def __str__(self) -> str:
        return f"match review #{self.pk}"


class MasterMergeQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> MasterMergeQuerySet:
        if actor.is_system:
            return self
        agency_id = reviews_for(actor)
        if agency_id is None:
            return self.none()
        # Only merges that moved nothing but the reviewer's own agency's records.
        foreign = PersonRecord.objects.exclude(agency_id=agency_id).values("pk")
        return self.exclude(moved__record_id__in=foreign).exclude(
            kept__links__record_id__in=foreign
        )


class MasterMerge(ProtectedModel):
    """Two master persons made one: the records of ``absorbed`` moved to ``kept``. Undoing
    it moves exactly those records back (later links to ``kept`` stay)."""

    kept = models.ForeignKey(MasterPerson, on_delete=models.PROTECT, related_name="+")
    absorbed = models.ForeignKey(MasterPerson, on_delete=models.PROTECT, related_name="+")
    merged_at = models.DateTimeField(auto_now_add=True)
    merged_by = models.CharField(max_length=150)
    reason = models.CharField(max_length=500, blank=True, default="")
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.CharField(max_length=150, blank=True, default="")

    objects = MasterMergeQuerySet.as_manager()

    if TYPE_CHECKING:
        moved: RelatedManager[MergedRecord]

    class Meta:
        ordering = ["-merged_at", "-pk"]

    def __str__(self) -> str:
        return f"merge #{self.pk}"

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None


class MergedRecord(ProtectedModel):
    """One record a merge moved, with the link it had before (to put it back as it was)."""

    merge = models.ForeignKey(MasterMerge, on_delete=models.CASCADE, related_name="moved")
    record = models.ForeignKey(PersonRecord, on_delete=models.CASCADE, related_name="+")
    previous_method = models.CharField(max_length=16, choices=LinkMethod.choices)
    previous_weight = models.FloatField(null=True, blank=True)
    previous_probability = models.FloatField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.record} in {self.merge}"


class LinkageModel(ProtectedModel):
    """A trained Splink model (m and u probabilities learnt from the records themselves);
    the newest one scores each new record against its candidates."""

    created_at = models.DateTimeField(auto_now_add=True)
    trained_by = models.CharField(max_length=150)
    record_count = models.PositiveIntegerField()
    settings = models.JSONField()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"linkage model #{self.pk}"

    def as_dict(self) -> dict[str, Any]:
        return dict(self.settings)
