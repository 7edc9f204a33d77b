"""Client consents: general, 42 CFR Part 2, and for use in proceedings against the client.

A consent records every element of 42 CFR 2.31(a) (see ``elements.py``), its signature
evidence, and its end: an expiry date or event, or revocation, which takes effect for
every decision made after it.
"""

from __future__ import annotations

from datetime import date

from django.db import models
from django.utils import timezone

from accord.core.access import Purpose, RestrictedQuerySet
from accord.core.actions import ProtectedModel
from accord.core.actors import Actor
from accord.policy import codesets
from accord.policy.vocabulary import ConsentKind, category_label, purpose_label

# Roles that take and record consents with clients.
CONSENT_ROLES = ("attorney", "social_worker", "case_worker", "supervisor", "agency_admin")


class ConsentStatus(models.TextChoices):
    DRAFT = "draft", "Draft (not in force)"
    ACTIVE = "active", "Active"
    REVOKED = "revoked", "Revoked"
    ENDED = "ended", "Ended by its expiry event"


class SignerCapacity(models.TextChoices):
    """Who signed (42 CFR 2.31(a)(8), 2.14 minors, 2.15 incompetent and deceased patients)."""

    CLIENT = "client", "The client"
    GUARDIAN = "guardian", "Parent or guardian (client is a minor)"
    AUTHORIZED_REPRESENTATIVE = (
        "authorized_representative",
        "Person authorized to act for a client who lacks capacity",
    )
    PERSONAL_REPRESENTATIVE = "personal_representative", "Personal representative (deceased client)"


class SignatureMethod(models.TextChoices):
    TYPED = "electronic_typed", "Electronic: typed name with intent to sign"
    DRAWN = "electronic_drawn", "Electronic: signature drawn on a device"
    WET_SCANNED = "wet_ink_scanned", "Ink on paper, scanned"
    VERBAL_WITNESSED = "witnessed_mark", "Mark made before a witness"


class ConsentQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = Purpose.OPERATIONS) -> ConsentQuerySet:
        """The recording agency's consent-taking staff and auditors; the staff of every
        agency the consent names as discloser or recipient (a disclosure made under it
        must be able to show it, 42 CFR 2.32(b)); a coordinating council's auditors."""
        if actor.is_system:
            return self
        if actor.agency_id is None or actor.scopes is not None:
            return self.none()
        if actor.has_role("auditor") and actor.attributes.get("agency_kind") == (
            "coordinating_council"
        ):
            return self
        visible = models.Q(pk__in=[])
        if actor.has_role(*CONSENT_ROLES, "auditor"):
            visible |= models.Q(recorded_by_id=actor.agency_id)
        named = Consent.disclosers.through.objects.filter(agency_id=actor.agency_id).values(
            "consent_id"
        )
        receiving = Consent.recipients.through.objects.filter(agency_id=actor.agency_id).values(
            "consent_id"
        )
        visible |= models.Q(pk__in=named) | models.Q(pk__in=receiving)
        return self.filter(visible)

    def in_force(self, today: date | None = None) -> ConsentQuerySet:
        today = today or timezone.localdate()
        return self.filter(status=ConsentStatus.ACTIVE, signed_at__date__lte=today).filter(
            models.Q(expires_on__isnull=True) | models.Q(expires_on__gte=today)
        )


class Consent(ProtectedModel):
    """A client's written consent to disclose named information to named recipients for
    named purposes (42 CFR 2.31; for general consents, the same shape)."""

    kind = models.CharField(max_length=16, choices=ConsentKind.choices)
    status = models.CharField(
        max_length=16, choices=ConsentStatus.choices, default=ConsentStatus.DRAFT
    )
    recorded_by = models.ForeignKey(
        "directory.Agency", on_delete=models.PROTECT, related_name="consents_recorded"
    )
    # (a)(1) the patient
    client_key = models.CharField(max_length=64, db_index=True)
    client_name = models.CharField(max_length=200, blank=True, default="")
    # (a)(2) who may use or disclose: named agencies and/or a class (agency kinds)
    disclosers = models.ManyToManyField(
        "directory.Agency", blank=True, related_name="consents_as_discloser"
    )
    discloser_kinds = models.CharField(max_length=300, blank=True, default="")
    # (a)(3) the information, in words and as categories the policy reads
    information_description = models.TextField(blank=True, default="")
    categories = models.CharField(max_length=500, blank=True, default="")
    # (a)(4) recipients: named agencies and/or a class
    recipients = models.ManyToManyField(
        "directory.Agency", blank=True, related_name="consents_as_recipient"
    )
    recipient_kinds = models.CharField(max_length=300, blank=True, default="")
    # (a)(5) each purpose
    purposes = models.CharField(max_length=300, blank=True, default="")
    purpose_description = models.TextField(blank=True, default="")
    # (a)(6) the right to revoke and how
    revocation_statement = models.TextField(blank=True, default="")
    # (a)(7) expiry date or event
    expires_on = models.DateField(null=True, blank=True)
    expiry_event = models.CharField(max_length=300, blank=True, default="")
    # (a)(8) signature, with evidence; (a)(9) the date signed
    signer_name = models.CharField(max_length=200, blank=True, default="")
    signer_capacity = models.CharField(
        max_length=32, choices=SignerCapacity.choices, blank=True, default=""
    )
    signature_method = models.CharField(
        max_length=32, choices=SignatureMethod.choices, blank=True, default=""
    )
    signature_evidence = models.CharField(max_length=300, blank=True, default="")
    signed_at = models.DateTimeField(null=True, blank=True)
    # (a)(4)(iii): when disclosed to a HIPAA covered entity or business associate for TPO.
    hipaa_redisclosure_statement = models.BooleanField(default=False)
    # lifecycle
    recorded_by_label = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=150, blank=True, default="")
    revocation_method = models.CharField(max_length=120, blank=True, default="")
    revocation_note = models.CharField(max_length=300, blank=True, default="")
    ended_at = models.DateTimeField(null=True, blank=True)
    end_note = models.CharField(max_length=300, blank=True, default="")

    objects = ConsentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["client_key", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.client_name or self.client_key}"

    @property
    def category_list(self) -> list[str]:
        return codesets.decode(self.categories)

    @property
    def purpose_list(self) -> list[str]:
        return codesets.decode(self.purposes)

    @property
    def recipient_kind_list(self) -> list[str]:
        return codesets.decode(self.recipient_kinds)

    @property
    def discloser_kind_list(self) -> list[str]:
        return codesets.decode(self.discloser_kinds)

    @property
    def category_words(self) -> list[str]:
        return [category_label(c) for c in self.category_list]

    @property
    def purpose_words(self) -> list[str]:
        return [purpose_label(p) for p in self.purpose_list]

    @property
    def is_part2(self) -> bool:
        return self.kind == ConsentKind.PART2

    @property
    def valid_from(self) -> date | None:
        return timezone.localdate(self.signed_at) if self.signed_at else None

    def in_force_on(self, day: date) -> bool:
        if self.status != ConsentStatus.ACTIVE or self.valid_from is None:
            return False
        return self.valid_from <= day and (self.expires_on is None or day <= self.expires_on)

    @property
    def shown_status(self) -> str:
        """Status as people read it: an active consent past its date reads "Expired"."""
        expires = self.expires_on
        if self.status == ConsentStatus.ACTIVE and expires and expires < timezone.localdate():
            return "Expired"
        return str(self.get_status_display())
