from __future__ import annotations

import pytest

from accord.accounts.identity import actor_for_user
from accord.consent.actions import revoke_consent
from accord.core.actors import SYSTEM
from accord.core.errors import ActionRefused, PermissionDenied
from accord.policy import engine
from accord.policy.actions import lift_screen, record_disclosures, register_record, screen_staff
from accord.policy.engine import Resource, decide, decide_many
from accord.policy.models import ClientRecord, Disclosure
from accord.policy.notices import PART2_NOTICE
from accord.policy.tests.test_golden import GOLDEN
from accord.policy.tests.world import DEFENSE, build_world


@pytest.fixture
def world(county):
    return build_world(county)


def _records_for_golden(world):
    county = world.county
    seen = set()
    for row in GOLDEN:
        owner, client, category, labels = row[3], row[4], row[5], row[6]
        key = (owner, client, category, labels)
        if key in seen:
            continue
        seen.add(key)
        register_record(
            county.agencies[owner],
            actor=SYSTEM,
            client_key=client,
            category=category,
            labels=labels,
            summary=f"{category} of {client}",
        )
    return list(ClientRecord.objects.all())


def test_it_filters_lists_in_sql_exactly_as_it_decides(world):
    records = _records_for_golden(world)
    mismatches = []
    for persona, purpose in sorted({(row[1], row[7]) for row in GOLDEN}):
        actor = actor_for_user(world.county.people[persona])
        visible = set(ClientRecord.objects.visible_to(actor, purpose).values_list("pk", flat=True))
        decided = {
            r.pk
            for r, d in zip(
                records,
                decide_many(actor, "view", [Resource.of(r) for r in records], purpose),
                strict=True,
            )
            if d.allowed
        }
        if visible != decided:
            mismatches.append(
                f"{persona}/{purpose}: sql-only {visible - decided}, "
                f"decide-only {decided - visible}"
            )
    assert not mismatches, "\n".join(mismatches)


def test_it_applies_a_revocation_to_the_very_next_decision(world):
    actor = actor_for_user(world.county.defender_attorney)
    resource = Resource(world.county.provider.pk, "C-100", "substance_use_part2")
    assert decide(actor, "view", resource, DEFENSE).allowed
    revoke_consent(world.consents["C-100"], actor=SYSTEM, method="told the program by phone")
    after = decide(actor, "view", resource, DEFENSE)
    assert not after.allowed
    assert after.reasons[0].policy_id == "base/part2-consent"


def test_it_keeps_the_parsed_policy_set_while_nothing_changes(world):
    actor = actor_for_user(world.county.defender_attorney)
    resource = Resource(world.county.jail.pk, "C-1", "custody")
    decide(actor, "view", resource, DEFENSE)
    builds = engine.stats()["builds"]
    for _ in range(3):
        decide(actor, "view", resource, DEFENSE)
    assert engine.stats()["builds"] == builds


def test_it_screens_at_once_and_lifts_at_once(world):
    attorney = world.county.defender_attorney
    actor = actor_for_user(attorney)
    resource = Resource(world.county.jail.pk, "C-77", "custody")
    assert decide(actor, "view", resource, DEFENSE).allowed
    supervisor = actor_for_user(world.county.defender_supervisor)
    screen = screen_staff(attorney, actor=supervisor, client_key="C-77", reason="Conflict")
    assert decide(actor, "view", resource, DEFENSE).reasons[0].policy_id == "base/ethical-screen"
    lift_screen(screen, actor=supervisor, reason="Conflict cleared")
    assert decide(actor, "view", resource, DEFENSE).allowed


def test_it_lets_only_the_agencys_supervisors_set_screens(world):
    with pytest.raises(PermissionDenied):
        screen_staff(
            world.county.defender_attorney,
            actor=actor_for_user(world.county.jail_admin),
            client_key="C-5",
            reason="x",
        )
    with pytest.raises(PermissionDenied):
        screen_staff(
            world.county.defender_attorney,
            actor=actor_for_user(world.county.defender_investigator),
            client_key="C-5",
            reason="x",
        )


def test_it_refuses_a_second_screen_for_the_same_client(world):
    with pytest.raises(ActionRefused):
        screen_staff(
            world.county.defender_investigator, actor=SYSTEM, client_key="C-100", reason="again"
        )


def test_it_records_each_cross_agency_disclosure_with_its_legal_basis(world):
    actor = actor_for_user(world.county.defender_attorney)
    resources = [
        Resource(world.county.provider.pk, "C-100", "substance_use_part2", ref="r:1"),
        Resource(world.county.provider.pk, "C-100", "mental_health", ref="r:2"),
        Resource(world.county.defender.pk, "C-100", "case_status", ref="r:3"),
        Resource(world.county.jail.pk, "C-1", "education", ref="r:4"),
    ]
    decisions = decide_many(actor, "view", resources, DEFENSE)
    created = record_disclosures(decisions, actor=actor)
    assert len(created) == 1
    disclosure = Disclosure.objects.get()
    assert disclosure.client_key == "C-100"
    assert disclosure.categories == ["mental_health", "substance_use_part2"]
    assert disclosure.discloser_id == world.county.provider.pk
    assert disclosure.recipient_id == world.county.defender.pk
    assert disclosure.basis[0]["reference"] == "QSOA-PROVIDER"
    assert disclosure.basis[0]["clause"] == "4.1"
    assert disclosure.consent_ids == [world.consents["C-100"].pk]
    assert disclosure.notice == PART2_NOTICE
    assert disclosure.record_refs == ["r:1", "r:2"]


def test_it_carries_no_part2_notice_on_other_disclosures(world):
    actor = actor_for_user(world.county.defender_attorney)
    decisions = decide_many(
        actor, "view", [Resource(world.county.jail.pk, "C-1", "custody")], DEFENSE
    )
    [disclosure] = record_disclosures(decisions, actor=actor)
    assert disclosure.notice == ""
    assert disclosure.redisclosure_allowed is False


def test_it_never_rewrites_a_disclosure(world):
    actor = actor_for_user(world.county.defender_attorney)
    decisions = decide_many(
        actor, "view", [Resource(world.county.jail.pk, "C-1", "custody")], DEFENSE
    )
    [disclosure] = record_disclosures(decisions, actor=actor)
    disclosure.client_key = "C-2"
    with pytest.raises(RuntimeError):
        disclosure.save()
    with pytest.raises(RuntimeError):
        Disclosure.objects.all().delete()


def test_it_allows_the_system_and_denies_an_actor_without_agency(world):
    from accord.core.actors import Actor

    resource = Resource(world.county.jail.pk, "C-1", "custody")
    assert decide(SYSTEM, "view", resource, DEFENSE).allowed
    assert not decide(Actor(label="nobody"), "view", resource, DEFENSE).allowed
    assert ClientRecord.objects.visible_to(Actor(label="nobody"), DEFENSE).count() == 0
