"""The home page's count of consents in force that the reader's agency recorded."""

from __future__ import annotations

from accord.consent.models import CONSENT_ROLES, Consent
from accord.core.actors import Actor


def in_force(actor: Actor) -> int | None:
    if actor.agency_id is None or not actor.has_role(*CONSENT_ROLES):
        return None
    return (
        Consent.objects.visible_to(actor).in_force().filter(recorded_by_id=actor.agency_id).count()
    )
