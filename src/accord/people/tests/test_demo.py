"""The demo county's people: variant names across agencies and planted conflicts that the
demo conflict check finds."""

import pytest

from accord.core.actors import SYSTEM
from accord.demo.accounts import AGENCIES, JURISDICTION
from accord.demo.people import PARTNERS, PLANTED, seed_people
from accord.directory.actions import create_agency
from accord.people.models import ConflictCheck, LinkMethod, PersonLink, PersonRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_agencies():
    wanted = {"HCPD", *PARTNERS}
    return {
        spec.short_name: create_agency(
            actor=SYSTEM,
            name=spec.name,
            short_name=spec.short_name,
            kind=spec.kind,
            jurisdiction=JURISDICTION,
            identifier=spec.identifier,
        )
        for spec in AGENCIES
        if spec.short_name in wanted
    }


def test_the_demo_check_finds_every_planted_conflict(demo_agencies):
    counts = seed_people(actor=SYSTEM)
    assert counts["people"] > 1500
    check = ConflictCheck.objects.get()
    assert check.candidate_count == len(PLANTED) + 1
    for i, plant in enumerate(PLANTED):
        planted = PersonRecord.objects.get(source_id=f"PD-P{i + 1}")
        party = check.candidates.get(first_name=plant.asked_first, last_name=plant.asked_last)
        top = party.hits.order_by("-score").first()
        assert top is not None, plant
        assert top.record_id == planted.pk, (plant, top.explanation)
        assert plant.case in top.roles_summary
    # People known to several agencies under variant names share one person.
    shared = PersonLink.objects.filter(method=LinkMethod.SEED).values("master").distinct()
    assert shared.count() < PersonRecord.objects.count()
    assert PersonLink.objects.filter(method__in=[LinkMethod.MODEL, LinkMethod.SINGLE]).exists()
    assert seed_people(actor=SYSTEM) == {"people": 0}  # seeding twice adds nothing
