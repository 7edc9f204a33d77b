"""Agreements between agencies (MOUs, data-sharing agreements, QSOAs, BAAs) as data: their
parties, versions with hashed text, typed sharing terms, measured obligations, escalation
ladders and signatures. Sharing terms of fully signed versions compile into Cedar permits
(``accord.agreements.live``)."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone

from accord.core.access import Purpose, RestrictedQuerySet
from accord.core.actions import ProtectedModel
from accord.core.actors import Actor
from accord.policy.cedar import ConsentRequirement, TermSpec
from accord.policy.vocabulary import action_label, category_label, purpose_label

if TYPE_CHECKING:
    from django_stubs_ext.db.models.manager import RelatedManager

MANAGER_ROLES = ("agency_admin",)


class AgreementKind(models.TextChoices):
    MOU = "mou", "Memorandum of understanding"
    DATA_SHARING = "data_sharing", "Data-sharing agreement"
    QSOA = "qsoa", "Qualified service organization agreement (42 CFR 2.11)"
    BAA = "baa", "Business associate agreement (45 CFR 164.504(e))"
    OTHER = "other", "Other agreement"


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_NEGOTIATION = "in_negotiation", "In negotiation"
    AWAITING_SIGNATURES = "awaiting_signatures", "Awaiting signatures"
    ACTIVE = "active", "Active"
    UNDER_REVIEW = "under_review", "Under review"
    EXPIRED = "expired", "Expired"
    TERMINATED = "terminated", "Terminated"


IN_FORCE_STATUSES = (AgreementStatus.ACTIVE, AgreementStatus.UNDER_REVIEW)


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_NEGOTIATION = "in_negotiation", "In negotiation"
    AWAITING_SIGNATURES = "awaiting_signatures", "Awaiting signatures"
    SIGNED = "signed", "Signed by every party, not yet in force"
    ACTIVE = "active", "In force"
    SUPERSEDED = "superseded", "Superseded by a later version"
    ENDED = "ended", "Ended (expired or terminated)"
    WITHDRAWN = "withdrawn", "Withdrawn before signing"


EDITABLE_VERSION_STATUSES = (VersionStatus.DRAFT, VersionStatus.IN_NEGOTIATION)
OPEN_VERSION_STATUSES = (
    VersionStatus.DRAFT,
    VersionStatus.IN_NEGOTIATION,
    VersionStatus.AWAITING_SIGNATURES,
    VersionStatus.SIGNED,
)


class PartyRole(models.TextChoices):
    DISCLOSER = "discloser", "Discloses information"
    RECIPIENT = "recipient", "Receives information"
    MUTUAL = "mutual", "Discloses and receives"
    OVERSIGHT = "oversight", "Oversight (coordinating council)"


class ObligationMeasure(models.TextChoices):
    """How compliance with an obligation is measured (``accord.agreements.measurement``)."""

    EVENT_DELIVERED = "event_delivered_within", "Event of a type delivered within N hours"
    REQUEST_ANSWERED = "request_answered_within", "Request of a type answered within N days"
    REPORT_EVERY = "report_every", "Report every N days"
    ATTESTATION = "attestation", "Attested by the party each period"


class AgreementQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = Purpose.OPERATIONS) -> AgreementQuerySet:
        """Agreements are governance records of the partnership: the coordinating council
        sees all; every other agency sees the agreements it is a party to."""
        if actor.is_system:
            return self
        if actor.agency_id is None:
            return self.none()
        if actor.scopes is not None and "agreements:read" not in actor.scopes:
            return self.none()
        if actor.attributes.get("agency_kind") == "coordinating_council":
            return self
        return self.filter(parties__agency_id=actor.agency_id).distinct()

    def manageable_by(self, actor: Actor) -> AgreementQuerySet:
        if actor.is_system or (actor.has_role("coordinator") and actor.scopes is None):
            return self
        if actor.has_role(*MANAGER_ROLES) and actor.scopes is None:
            return self.filter(parties__agency_id=actor.agency_id).distinct()
        return self.none()


class Agreement(ProtectedModel):
    """An agreement between two or more agencies, across all its versions."""

    reference = models.CharField(max_length=40, unique=True)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=AgreementKind.choices)
    status = models.CharField(
        max_length=24, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT
    )
    # Days before review and expiry dates on which the parties are reminded.
    reminder_days = models.CharField(max_length=40, default="60,30")
    created_by_label = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    terminated_at = models.DateTimeField(null=True, blank=True)
    termination_reason = models.CharField(max_length=300, blank=True, default="")

    objects = AgreementQuerySet.as_manager()

    if TYPE_CHECKING:
        parties: RelatedManager[AgreementParty]
        versions: RelatedManager[AgreementVersion]

    class Meta:
        ordering = ["reference"]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reminder_day_list(self) -> list[int]:
        return sorted(
            {int(d) for d in self.reminder_days.split(",") if d.strip().isdigit()}, reverse=True
        )

    def version_in_force(self) -> AgreementVersion | None:
        return self.versions.filter(status=VersionStatus.ACTIVE).order_by("-number").first()

    def open_version(self) -> AgreementVersion | None:
        """The version being drafted, negotiated or signed, if any."""
        return self.versions.filter(status__in=OPEN_VERSION_STATUSES).order_by("-number").first()

    def latest_version(self) -> AgreementVersion | None:
        return self.versions.order_by("-number").first()


class AgreementParty(ProtectedModel):
    """An agency that is party to an agreement, its role and its authorized signatory."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="parties")
    agency = models.ForeignKey(
        "directory.Agency", on_delete=models.PROTECT, related_name="agreement_parties"
    )
    role = models.CharField(max_length=16, choices=PartyRole.choices)
    signatory = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agreements_to_sign",
    )
    signatory_title = models.CharField(max_length=120, blank=True, default="")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["agreement", "agency__name"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "agency"], name="one_party_per_agency")
        ]

    def __str__(self) -> str:
        return f"{self.agency} ({self.get_role_display()})"


CLAUSE_LINE = re.compile(r"^\s*§?\s*(\d+(?:\.\d+)*)[.)]?\s+\S", re.MULTILINE)


class AgreementVersion(ProtectedModel):
    """One version of an agreement's text and terms. Its content is hashed when it goes
    out for signature; signatures bind that hash; an amendment is a new version that
    supersedes this one when it comes into force."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(
        max_length=24, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    body = models.TextField(blank=True, default="")
    change_summary = models.CharField(max_length=300, blank=True, default="")
    effective_on = models.DateField()
    expires_on = models.DateField()
    review_on = models.DateField(null=True, blank=True)
    content_hash = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    frozen_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    if TYPE_CHECKING:
        terms: RelatedManager[SharingTerm]
        obligations: RelatedManager[Obligation]
        escalation_steps: RelatedManager[EscalationStep]
        signatures: RelatedManager[Signature]

    class Meta:
        ordering = ["agreement", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="version_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.agreement.reference} v{self.number}"

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE_VERSION_STATUSES

    @property
    def clause_numbers(self) -> list[str]:
        return CLAUSE_LINE.findall(self.body)

    def in_force_on(self, day: date) -> bool:
        return self.status == VersionStatus.ACTIVE and self.effective_on <= day <= self.expires_on

    @property
    def days_to_expiry(self) -> int:
        return (self.expires_on - timezone.localdate()).days


class SharingTerm(ProtectedModel):
    """What may flow under a clause: from which agency to which (or to which role in it),
    which categories, for which purposes, which actions, under which consent requirement
    and recipient attributes, whether the recipient may pass it on, how long it keeps it."""

    version = models.ForeignKey(AgreementVersion, on_delete=models.CASCADE, related_name="terms")
    clause = models.CharField(max_length=20)
    discloser = models.ForeignKey(
        "directory.Agency", on_delete=models.PROTECT, related_name="terms_as_discloser"
    )
    recipient = models.ForeignKey(
        "directory.Agency", on_delete=models.PROTECT, related_name="terms_as_recipient"
    )
    recipient_role = models.CharField(max_length=32, blank=True, default="")
    categories = models.JSONField(default=list)
    purposes = models.JSONField(default=list)
    actions = models.JSONField(default=list)
    consent = models.CharField(
        max_length=16, choices=ConsentRequirement.choices, default=ConsentRequirement.NONE
    )
    recipient_attributes = models.JSONField(default=list, blank=True)
    redisclosure_allowed = models.BooleanField(default=False)
    retention_days = models.PositiveIntegerField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["version", "clause", "id"]

    def __str__(self) -> str:
        return f"§{self.clause}: {self.discloser_id} → {self.recipient_id}"

    def spec(self) -> TermSpec:
        """The compiler's view of this term (needs version, agreement and agencies loaded)."""
        return TermSpec(
            term_id=self.pk,
            agreement_id=self.version.agreement_id,
            version_id=self.version_id,
            reference=self.version.agreement.reference,
            version_number=self.version.number,
            clause=self.clause,
            discloser_id=self.discloser_id,
            discloser_name=self.discloser.short_name,
            recipient_id=self.recipient_id,
            recipient_name=self.recipient.short_name,
            categories=tuple(self.categories),
            purposes=tuple(self.purposes),
            actions=tuple(self.actions),
            consent=self.consent,
            recipient_role=self.recipient_role,
            recipient_attributes=tuple(self.recipient_attributes),
            redisclosure_allowed=self.redisclosure_allowed,
            retention_days=self.retention_days,
        )

    @property
    def category_words(self) -> list[str]:
        return [category_label(c) for c in self.categories]

    @property
    def purpose_words(self) -> list[str]:
        return [purpose_label(p) for p in self.purposes]

    @property
    def action_words(self) -> list[str]:
        return [action_label(a) for a in self.actions]


class Obligation(ProtectedModel):
    """Who must do what by when under a clause, and how it is measured."""

    version = models.ForeignKey(
        AgreementVersion, on_delete=models.CASCADE, related_name="obligations"
    )
    clause = models.CharField(max_length=20)
    party = models.ForeignKey(
        "directory.Agency", on_delete=models.PROTECT, related_name="obligations"
    )
    counterparty = models.ForeignKey(
        "directory.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="obligations_owed",
    )
    description = models.CharField(max_length=300)
    measure = models.CharField(max_length=32, choices=ObligationMeasure.choices)
    subject = models.CharField(
        max_length=64, blank=True, default="", help_text="event type, request type or report name"
    )
    within_hours = models.PositiveIntegerField(null=True, blank=True)
    within_days = models.PositiveIntegerField(null=True, blank=True)
    every_days = models.PositiveIntegerField(null=True, blank=True)
    target_percent = models.PositiveSmallIntegerField(default=95)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["version", "clause", "id"]

    def __str__(self) -> str:
        return f"§{self.clause}: {self.description}"

    def words(self) -> str:
        measure = self.measure
        to = f" to {self.counterparty.short_name}" if self.counterparty else ""
        who = self.party.short_name
        if measure == ObligationMeasure.EVENT_DELIVERED:
            return f"{who} delivers {self.subject} events{to} within {self.within_hours} hours"
        if measure == ObligationMeasure.REQUEST_ANSWERED:
            return f"{who} answers {self.subject} requests{to} within {self.within_days} days"
        if measure == ObligationMeasure.REPORT_EVERY:
            what = f" {self.subject}" if self.subject else ""
            return f"{who} reports{what}{to} every {self.every_days} days"
        return f"{self.party.short_name} attests: {self.description}"


class EscalationStep(ProtectedModel):
    """One rung of an agreement's dispute ladder (used by disputes in a later issue)."""

    version = models.ForeignKey(
        AgreementVersion, on_delete=models.CASCADE, related_name="escalation_steps"
    )
    position = models.PositiveSmallIntegerField()
    level = models.CharField(max_length=120)
    within_days = models.PositiveIntegerField(null=True, blank=True)
    description = models.CharField(max_length=300, blank=True, default="")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="escalation_position")
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.level}"


class Signature(ProtectedModel):
    """A party's signature on one exact version (its content hash), given after the
    signatory re-authenticated. Voided, never deleted, if the version goes back to
    negotiation."""

    version = models.ForeignKey(
        AgreementVersion, on_delete=models.CASCADE, related_name="signatures"
    )
    party = models.ForeignKey(AgreementParty, on_delete=models.PROTECT, related_name="signatures")
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="agreement_signatures"
    )
    signer_label = models.CharField(max_length=150)
    signer_title = models.CharField(max_length=120, blank=True, default="")
    signed_at = models.DateTimeField()
    content_hash = models.CharField(max_length=64)
    method = models.CharField(max_length=60, default="password and authenticator re-check")
    source_ip = models.CharField(max_length=45, blank=True, default="")
    voided_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "party"],
                condition=models.Q(voided_at__isnull=True),
                name="one_signature_per_party_and_version",
            )
        ]

    def __str__(self) -> str:
        return f"{self.signer_label} signed {self.content_hash[:12]}"


class Attestation(ProtectedModel):
    """A party's statement that it met (or missed) an obligation over a period; also how
    reports are recorded for "report every N days"."""

    obligation = models.ForeignKey(
        Obligation, on_delete=models.CASCADE, related_name="attestations"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    met = models.BooleanField()
    note = models.CharField(max_length=300, blank=True, default="")
    attested_by = models.CharField(max_length=150)
    attested_at = models.DateTimeField()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-period_end", "-id"]

    def __str__(self) -> str:
        return f"{self.period_start} to {self.period_end}: {'met' if self.met else 'missed'}"


class Reminder(ProtectedModel):
    """A review or expiry reminder sent to the parties (once per version, kind and lead)."""

    version = models.ForeignKey(
        AgreementVersion, on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField(max_length=8, choices=[("review", "Review"), ("expiry", "Expiry")])
    days_before = models.PositiveIntegerField()
    due_on = models.DateField()
    sent_at = models.DateTimeField()
    recipients = models.JSONField(default=list)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "kind", "days_before"], name="one_reminder_per_lead"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} reminder {self.days_before} days before {self.due_on}"


class BreachKind(models.TextChoices):
    """How an occurrence missed its obligation's deadline (stable codes)."""

    LATE = "late", "Done, but after the deadline"
    OVERDUE = "overdue", "Still not done after the deadline"


# The longest acknowledgement note an administrator may write.
ACKNOWLEDGEMENT_MAX = 1000


class BreachAlertState(models.TextChoices):
    """Which alerts a list shows: open (not yet acknowledged), acknowledged, or all."""

    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    ALL = "all", "All"


class BreachAlertQuerySet(RestrictedQuerySet):
    def in_state(self, state: str) -> BreachAlertQuerySet:
        if state == BreachAlertState.OPEN:
            return self.filter(acknowledged_at__isnull=True)
        if state == BreachAlertState.ACKNOWLEDGED:
            return self.filter(acknowledged_at__isnull=False)
        return self

    def visible_to(self, actor: Actor, purpose: str = Purpose.OPERATIONS) -> BreachAlertQuerySet:
        """Whoever may read the agreement may read its breach alerts (they name an
        obligation, a reference, times and the administrator who acknowledged; never a
        client)."""
        if actor.is_system:
            return self
        visible = Agreement.objects.visible_to(actor).values("pk")
        return self.filter(obligation__version__agreement__in=visible)


class BreachAlert(ProtectedModel):
    """One occurrence of a measured obligation that missed its deadline ("bookings to the
    defender within 24 hours": this booking took 30, or is still not delivered), raised
    once to the administrators of both parties, in the app and by e-mail. The occurrence
    is the measurement source's reference (``exchange.event:<id>``), so the alert is
    unique per breach whatever the runs of the checking job."""

    obligation = models.ForeignKey(
        Obligation, on_delete=models.CASCADE, related_name="breach_alerts"
    )
    occurrence = models.CharField(max_length=80)
    kind = models.CharField(max_length=8, choices=BreachKind.choices)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    raised_at = models.DateTimeField()
    # Who was alerted: the user ids of the parties' agency administrators at the time.
    recipients = models.JSONField(default=list)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # The administrator's answer: once acknowledged, with what was done about it, the alert
    # is no longer open. The label keeps the name and agency as they were at the time.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="breach_alerts_acknowledged",
    )
    acknowledged_by_label = models.CharField(max_length=200, blank=True, default="")
    acknowledgement = models.CharField(max_length=ACKNOWLEDGEMENT_MAX, blank=True, default="")

    objects = BreachAlertQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["obligation", "occurrence"], name="one_alert_per_breach"
            ),
            models.CheckConstraint(
                condition=models.Q(acknowledged_at__isnull=True, acknowledgement="")
                | (models.Q(acknowledged_at__isnull=False) & ~models.Q(acknowledgement="")),
                name="breach_acknowledged_with_a_note",
            ),
        ]

    def __str__(self) -> str:
        return f"breach of §{self.obligation.clause}: {self.occurrence}"

    @property
    def is_open(self) -> bool:
        """Not yet acknowledged by an administrator."""
        return self.acknowledged_at is None

    def words(self) -> str:
        """What happened, in a line the e-mail and the pages share (no personal data)."""
        started = timezone.localtime(self.started_at)
        if self.completed_at is None:
            return (
                f"{self.occurrence} (started {started:%Y-%m-%d %H:%M}) was still not done "
                f"when due at {timezone.localtime(self.due_at):%Y-%m-%d %H:%M}"
            )
        took = self.completed_at - self.started_at
        hours = took.total_seconds() / 3600
        return (
            f"{self.occurrence} (started {started:%Y-%m-%d %H:%M}) was done after "
            f"{hours:.1f} h, later than the deadline"
        )
