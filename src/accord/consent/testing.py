"""Recording complete consents through the real actions, for tests, benchmarks and the demo."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from accord.consent.actions import record_consent
from accord.consent.elements import DEFAULT_REVOCATION_STATEMENT
from accord.consent.models import Consent
from accord.core.actors import SYSTEM, Actor
from accord.directory.models import Agency

REVOCATION_STATEMENT = DEFAULT_REVOCATION_STATEMENT


def complete_values(
    *,
    kind: str,
    client_key: str,
    disclosers: Sequence[Agency],
    recipients: Sequence[Agency],
    categories: Sequence[str],
    purposes: Sequence[str],
    expires_on: date | None = None,
    client_name: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """Every element of 42 CFR 2.31(a) filled in."""
    values: dict[str, Any] = {
        "kind": kind,
        "client_key": client_key,
        "client_name": client_name or f"Client {client_key}",
        "disclosers": [a.pk for a in disclosers],
        "recipients": [a.pk for a in recipients],
        "categories": list(categories),
        "purposes": list(purposes),
        "information_description": "Assessment, treatment dates and progress notes.",
        "purpose_description": "To let my defense team and program coordinate my case.",
        "revocation_statement": REVOCATION_STATEMENT,
        "expires_on": expires_on or timezone.localdate() + timedelta(days=180),
        "signer_name": client_name or f"Client {client_key}",
        "signer_capacity": "client",
        "signature_method": "electronic_typed",
        "signature_evidence": "typed name with intent-to-sign checkbox",
        "signed_at": timezone.now() - timedelta(days=1),
    }
    values.update(extra)
    return values


def make_consent(
    recorded_by: Agency, *, actor: Actor = SYSTEM, activate: bool = True, **values: Any
) -> Consent:
    return record_consent(
        actor=actor, activate=activate, agency=recorded_by, **complete_values(**values)
    )
