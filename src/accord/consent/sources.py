"""What the decision point reads from consents: the active consents of some clients, and
the same test as SQL for list filters. Registered with the engine in ``apps.ready``."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from django.db.models import Exists, OuterRef, Q, Value
from django.db.models.functions import Concat
from django.utils import timezone

from accord.consent.models import Consent, ConsentStatus
from accord.policy import codesets
from accord.policy.engine import ConsentFact


def consent_facts(client_keys: Collection[str]) -> dict[str, list[ConsentFact]]:
    """Active consents of these clients (dates are checked at each decision)."""
    found: dict[str, list[ConsentFact]] = {}
    rows = (
        Consent.objects.filter(client_key__in=list(client_keys), status=ConsentStatus.ACTIVE)
        .exclude(signed_at__isnull=True)
        .prefetch_related("disclosers", "recipients")
    )
    for consent in rows:
        assert consent.signed_at is not None
        found.setdefault(consent.client_key, []).append(
            ConsentFact(
                consent_id=consent.pk,
                kind=consent.kind,
                discloser_ids=frozenset(a.pk for a in consent.disclosers.all()),
                discloser_kinds=frozenset(consent.discloser_kind_list),
                recipient_ids=frozenset(a.pk for a in consent.recipients.all()),
                recipient_kinds=frozenset(consent.recipient_kind_list),
                categories=frozenset(consent.category_list),
                purposes=frozenset(consent.purpose_list),
                valid_from=timezone.localdate(consent.signed_at),
                expires_on=consent.expires_on,
            )
        )
    return found


def consent_exists(
    kind: str, recipient_id: int, recipient_kind: str, purpose: str, today: date
) -> Exists:
    """A consent of ``kind`` for the outer record's client, covering its owner and category,
    this recipient and purpose, in force on ``today`` — the SQL twin of ConsentFact.covers."""
    recipients = Consent.recipients.through.objects.filter(
        consent_id=OuterRef("pk"), agency_id=recipient_id
    )
    disclosers = Consent.disclosers.through.objects.filter(
        consent_id=OuterRef("pk"), agency_id=OuterRef(OuterRef("owner_id"))
    )
    matching = Consent.objects.filter(
        client_key=OuterRef("client_key"),
        kind=kind,
        status=ConsentStatus.ACTIVE,
        signed_at__date__lte=today,
        categories__contains=Concat(Value(","), OuterRef("category"), Value(",")),
    ).filter(
        Q(expires_on__isnull=True) | Q(expires_on__gte=today),
        codesets.has("purposes", purpose),
        Q(Exists(recipients)) | codesets.has("recipient_kinds", recipient_kind),
        Q(Exists(disclosers))
        | Q(discloser_kinds__contains=Concat(Value(","), OuterRef("owner__kind"), Value(","))),
    )
    return Exists(matching)
