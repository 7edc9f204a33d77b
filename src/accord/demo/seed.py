"""Seeding the demo county through the same actions a person would use."""

from __future__ import annotations

from django.conf import settings

from accord.accounts.actions import enrol_demo_authenticator
from accord.audit.chain import append as audit
from accord.audit.codes import AuditAction
from accord.core.actions import action
from accord.core.actors import SYSTEM, Actor
from accord.demo.accounts import AGENCIES, DEMO_PASSWORD, JURISDICTION, PEOPLE
from accord.demo.agreements import seed_agreements
from accord.demo.cases import seed_cases
from accord.demo.people import seed_people
from accord.directory.actions import add_staff, create_agency, create_unit
from accord.directory.models import Agency, Unit

# The council's coordinator exists before anyone else; the seed acts as the system.
SEED_ACTOR = SYSTEM


@action
def seed_demo_county(*, actor: Actor) -> dict[str, int]:
    """Create the demo county if it is not there yet. Refuses outside demo and test mode."""
    if settings.PRODUCTION:
        raise RuntimeError("The demo county is never seeded in production mode.")
    if Agency.objects.filter(jurisdiction=JURISDICTION).exists():
        return {"agencies": 0, "staff": 0}
    agencies: dict[str, Agency] = {}
    units: dict[tuple[str, str], Unit] = {}
    for spec in AGENCIES:
        agency = create_agency(
            actor=actor,
            name=spec.name,
            short_name=spec.short_name,
            kind=spec.kind,
            jurisdiction=JURISDICTION,
            identifier=spec.identifier,
            email=f"contact@{spec.short_name.lower()}.demo.invalid",
        )
        agencies[spec.short_name] = agency
        for unit_name in spec.units:
            units[(spec.short_name, unit_name)] = create_unit(agency, unit_name, actor=actor)
    for person in PEOPLE:
        profile = add_staff(
            agencies[person.agency],
            actor=actor,
            username=person.username,
            first_name=person.first_name,
            last_name=person.last_name,
            email=f"{person.username}@demo.invalid",
            roles=person.roles,
            password=DEMO_PASSWORD,
            unit=units.get((person.agency, person.unit)) if person.unit else None,
            title=person.title,
            attributes=person.attributes,
            is_demo=True,
        )
        enrol_demo_authenticator(profile.user, actor=actor)
    seed_agreements(actor=actor)
    seed_people(actor=actor)
    seed_cases(agencies, actor=actor)
    counts = {"agencies": len(agencies), "staff": len(PEOPLE)}
    audit(actor, AuditAction.DEMO_SEEDED, details=counts)
    return counts
