"""The access layer: every read goes through here (NetBox's ``RestrictedQuerySet``).

A list is ``Model.objects.visible_to(actor, purpose)``; one object is
``access_<thing>(actor, id, purpose)``, which raises :class:`NotFound` both when the row
does not exist and when the actor may not see it. Each model's queryset defines
``visible_to`` once, and the single-object helper is built from that same filter, so the
two can never drift apart (the anti-pattern avoided is a separate per-object check).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models

from accord.core.actions import ProtectedQuerySet
from accord.core.actors import Actor
from accord.core.errors import NotFound

M = TypeVar("M", bound=models.Model)


class Purpose(models.TextChoices):
    """Why data is read. Stable codes: agreements and disclosures refer to them."""

    OPERATIONS = "operations", "Running the partnership (directory, administration)"
    DEFENSE = "defense_representation", "Defense representation"
    PROSECUTION = "prosecution", "Prosecution"
    ADJUDICATION = "adjudication", "Court adjudication"
    CUSTODY = "custody_management", "Custody management"
    SUPERVISION = "community_supervision", "Community supervision"
    TREATMENT = "treatment", "Treatment and care coordination"
    SERVICES = "social_services", "Social and housing services"
    EVALUATION = "program_evaluation", "Program evaluation"
    AUDIT = "audit", "Audit and oversight"


# The purpose an agency's staff read and subscribe for unless they say otherwise, by the
# kind of agency they work for.
DEFAULT_PURPOSE = {
    "public_defender": Purpose.DEFENSE,
    "court": Purpose.ADJUDICATION,
    "prosecutor": Purpose.PROSECUTION,
    "law_enforcement": Purpose.CUSTODY,
    "jail": Purpose.CUSTODY,
    "probation": Purpose.SUPERVISION,
    "service_provider": Purpose.TREATMENT,
    "community_organization": Purpose.SERVICES,
    "coordinating_council": Purpose.EVALUATION,
}


def default_purpose(actor: Actor) -> str:
    """The purpose of ``actor``'s agency kind (operations for a kind without one)."""
    return str(DEFAULT_PURPOSE.get(str(actor.attributes.get("agency_kind")), Purpose.OPERATIONS))


class RestrictedQuerySet(ProtectedQuerySet):
    """A queryset that knows who may see its rows. Subclasses implement ``visible_to``."""

    def visible_to(self, actor: Actor, purpose: str = Purpose.OPERATIONS) -> RestrictedQuerySet:
        raise NotImplementedError(f"{self.model._meta.label} defines no access rule")


def access_object(
    queryset: Any, actor: Actor, pk: Any, purpose: str = Purpose.OPERATIONS, **lookups: Any
) -> Any:
    """The one row ``pk`` if ``actor`` may see it for ``purpose``; NotFound otherwise."""
    try:
        return queryset.visible_to(actor, purpose).get(pk=pk, **lookups)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(f"No {queryset.model._meta.verbose_name} {pk}.") from exc
