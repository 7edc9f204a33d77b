"""The golden table: decisions the partnership has agreed on, each with the rule or clause
that must explain it. A change to the engine, the compiler or the base policies that
alters any of these fails here, naming the row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accord.accounts.identity import actor_for_user
from accord.policy.engine import Resource, decide, decide_requests
from accord.policy.tests.world import (
    ADJUDICATION,
    CUSTODY_MGMT,
    DEFENSE,
    PROSECUTION,
    SERVICES,
    TREATMENT,
    build_world,
)

# (row, persona, action, owner, client, category, labels, purpose, allowed, reason prefix)
GOLDEN = [
    # agreements in force, and the scope of their terms
    (
        "jail custody to defender",
        "defender_attorney",
        "view",
        "jail",
        "C-1",
        "custody",
        (),
        DEFENSE,
        True,
        "agreement/MOU-JAIL/v1/§3.2",
    ),
    (
        "notify is one of the term's actions",
        "defender_attorney",
        "notify",
        "jail",
        "C-1",
        "custody",
        (),
        DEFENSE,
        True,
        "agreement/MOU-JAIL/v1/§3.2",
    ),
    (
        "receive a copy is not",
        "defender_attorney",
        "receive_copy",
        "jail",
        "C-1",
        "custody",
        (),
        DEFENSE,
        False,
        "default-deny",
    ),
    (
        "wrong purpose",
        "defender_attorney",
        "view",
        "jail",
        "C-1",
        "custody",
        (),
        SERVICES,
        False,
        "default-deny",
    ),
    (
        "category not covered",
        "defender_attorney",
        "view",
        "jail",
        "C-1",
        "education",
        (),
        DEFENSE,
        False,
        "default-deny",
    ),
    (
        "recipient role required and held",
        "defender_attorney",
        "view",
        "jail",
        "C-1",
        "criminal_history",
        (),
        DEFENSE,
        True,
        "agreement/MOU-JAIL/v1/§3.3",
    ),
    (
        "recipient role required and missing",
        "defender_investigator",
        "view",
        "jail",
        "C-1",
        "criminal_history",
        (),
        DEFENSE,
        False,
        "default-deny",
    ),
    (
        "recipient attribute held (sworn officer)",
        "jail_officer",
        "view",
        "court",
        "C-1",
        "court_events",
        (),
        CUSTODY_MGMT,
        True,
        "agreement/MOU-COURT/v1/§2.1",
    ),
    (
        "recipient attribute missing",
        "jail_admin",
        "view",
        "court",
        "C-1",
        "court_events",
        (),
        CUSTODY_MGMT,
        False,
        "default-deny",
    ),
    (
        "court events to defender",
        "defender_attorney",
        "view",
        "court",
        "C-1",
        "court_events",
        (),
        DEFENSE,
        True,
        "agreement/MOU-COURT/v1/§2.4",
    ),
    (
        "court events for the wrong purpose",
        "defender_attorney",
        "view",
        "court",
        "C-1",
        "court_events",
        (),
        PROSECUTION,
        False,
        "default-deny",
    ),
    (
        "jail custody to prosecutor",
        "prosecutor",
        "view",
        "jail",
        "C-1",
        "custody",
        (),
        PROSECUTION,
        True,
        "agreement/MOU-DA/v1/§2.2",
    ),
    (
        "prosecutor cannot use it for defense",
        "prosecutor",
        "view",
        "jail",
        "C-1",
        "custody",
        (),
        DEFENSE,
        False,
        "default-deny",
    ),
    # no agreement at all
    (
        "no agreement court to prosecutor",
        "prosecutor",
        "view",
        "court",
        "C-1",
        "charges",
        (),
        PROSECUTION,
        False,
        "default-deny",
    ),
    (
        "no agreement for the coordinator",
        "coordinator",
        "view",
        "jail",
        "C-1",
        "custody",
        (),
        "audit",
        False,
        "default-deny",
    ),
    (
        "no agreement, suspended as well",
        "outsider",
        "view",
        "court",
        "C-1",
        "court_events",
        (),
        SERVICES,
        False,
        "base/suspended-agency",
    ),
    # agreements not in force
    (
        "expired agreement",
        "defender_attorney",
        "view",
        "jail",
        "C-1",
        "mental_health",
        (),
        DEFENSE,
        False,
        "default-deny",
    ),
    (
        "terminated agreement",
        "defender_attorney",
        "view",
        "jail",
        "C-1",
        "medical",
        (),
        DEFENSE,
        False,
        "default-deny",
    ),
    (
        "not yet effective agreement",
        "defender_attorney",
        "view",
        "jail",
        "C-1",
        "housing",
        (),
        DEFENSE,
        False,
        "default-deny",
    ),
    (
        "unsigned agreement",
        "defender_attorney",
        "view",
        "jail",
        "C-1",
        "employment",
        (),
        DEFENSE,
        False,
        "default-deny",
    ),
    # privileged material
    (
        "privileged category never leaves",
        "court_clerk",
        "view",
        "defender",
        "C-1",
        "privileged_work_product",
        (),
        ADJUDICATION,
        False,
        "base/privileged",
    ),
    (
        "privileged label on a covered category",
        "court_clerk",
        "view",
        "defender",
        "C-1",
        "case_status",
        ("privileged",),
        ADJUDICATION,
        False,
        "base/privileged",
    ),
    (
        "same category without the label",
        "court_clerk",
        "view",
        "defender",
        "C-1",
        "case_status",
        (),
        ADJUDICATION,
        True,
        "agreement/MOU-COURT/v1/§2.2",
    ),
    (
        "privileged within the defender",
        "defender_social_worker",
        "view",
        "defender",
        "C-1",
        "privileged_work_product",
        (),
        DEFENSE,
        True,
        "base/own-agency",
    ),
    # 42 CFR Part 2
    (
        "Part 2 without consent",
        "defender_attorney",
        "view",
        "provider",
        "C-600",
        "substance_use_part2",
        (),
        DEFENSE,
        False,
        "base/part2-consent",
    ),
    (
        "Part 2 with only a general consent",
        "defender_attorney",
        "view",
        "provider",
        "C-200",
        "substance_use_part2",
        (),
        DEFENSE,
        False,
        "base/part2-consent",
    ),
    (
        "Part 2 with a Part 2 consent",
        "defender_attorney",
        "view",
        "provider",
        "C-100",
        "substance_use_part2",
        (),
        DEFENSE,
        True,
        "agreement/QSOA-PROVIDER/v1/§4.1",
    ),
    (
        "Part 2 consent covers treatment too",
        "defender_attorney",
        "view",
        "provider",
        "C-100",
        "substance_use_part2",
        (),
        TREATMENT,
        True,
        "agreement/QSOA-PROVIDER/v1/§4.1",
    ),
    (
        "Part 2 after revocation",
        "defender_attorney",
        "view",
        "provider",
        "C-300",
        "substance_use_part2",
        (),
        DEFENSE,
        False,
        "base/part2-consent",
    ),
    (
        "Part 2 after the consent expired",
        "defender_attorney",
        "view",
        "provider",
        "C-800",
        "substance_use_part2",
        (),
        DEFENSE,
        False,
        "base/part2-consent",
    ),
    (
        "Part 2 consent naming another recipient",
        "defender_attorney",
        "view",
        "provider",
        "C-900",
        "substance_use_part2",
        (),
        DEFENSE,
        False,
        "base/part2-consent",
    ),
    (
        "proceedings consent used for treatment",
        "defender_attorney",
        "view",
        "provider",
        "C-400",
        "substance_use_part2",
        (),
        TREATMENT,
        False,
        "base/part2-consent",
    ),
    (
        "proceedings consent used for proceedings",
        "prosecutor",
        "view",
        "provider",
        "C-400",
        "substance_use_part2",
        (),
        PROSECUTION,
        True,
        "agreement/MOU-DA/v1/§2.1",
    ),
    (
        "treatment consent used for proceedings",
        "prosecutor",
        "view",
        "provider",
        "C-100",
        "substance_use_part2",
        (),
        PROSECUTION,
        False,
        "base/part2-proceedings",
    ),
    (
        "Part 2 label on another category",
        "defender_attorney",
        "view",
        "provider",
        "C-600",
        "mental_health",
        ("part2",),
        DEFENSE,
        False,
        "base/part2-consent",
    ),
    (
        "term needing Part 2 consent, general given",
        "defender_attorney",
        "view",
        "provider",
        "C-200",
        "mental_health",
        (),
        DEFENSE,
        False,
        "default-deny",
    ),
    (
        "term needing Part 2 consent, Part 2 given",
        "defender_attorney",
        "view",
        "provider",
        "C-100",
        "mental_health",
        (),
        DEFENSE,
        True,
        "agreement/QSOA-PROVIDER/v1/§4.1",
    ),
    # client consent for a service referral
    (
        "referral data with client consent",
        "provider_case_worker",
        "view",
        "defender",
        "C-500",
        "housing",
        (),
        TREATMENT,
        True,
        "agreement/QSOA-PROVIDER/v1/§4.2",
    ),
    (
        "referral data without consent",
        "provider_case_worker",
        "view",
        "defender",
        "C-600",
        "housing",
        (),
        TREATMENT,
        False,
        "default-deny",
    ),
    # sealed and juvenile records
    (
        "sealed record",
        "defender_attorney",
        "view",
        "jail",
        "C-1",
        "custody",
        ("sealed",),
        DEFENSE,
        False,
        "base/sealed",
    ),
    (
        "sealed record in its own agency",
        "jail_officer",
        "view",
        "jail",
        "C-1",
        "custody",
        ("sealed",),
        CUSTODY_MGMT,
        True,
        "base/own-agency",
    ),
    (
        "juvenile record under a term that does not name it",
        "defender_attorney",
        "view",
        "jail",
        "C-1",
        "charges",
        ("juvenile",),
        DEFENSE,
        False,
        "default-deny",
    ),
    (
        "adult record under the same term",
        "defender_attorney",
        "view",
        "jail",
        "C-1",
        "charges",
        (),
        DEFENSE,
        True,
        "agreement/MOU-JAIL/v1/§3.2",
    ),
    # ethical screens
    (
        "screened staff, own agency's record",
        "defender_investigator",
        "view",
        "defender",
        "C-100",
        "case_status",
        (),
        DEFENSE,
        False,
        "base/ethical-screen",
    ),
    (
        "screened staff, another agency's record",
        "defender_investigator",
        "view",
        "jail",
        "C-100",
        "custody",
        (),
        DEFENSE,
        False,
        "base/ethical-screen",
    ),
    (
        "unscreened colleague",
        "defender_attorney",
        "view",
        "defender",
        "C-100",
        "case_status",
        (),
        DEFENSE,
        True,
        "base/own-agency",
    ),
    (
        "screened staff, another client",
        "defender_investigator",
        "view",
        "jail",
        "C-2",
        "custody",
        (),
        DEFENSE,
        True,
        "agreement/MOU-JAIL/v1/§3.2",
    ),
    # suspended agency
    (
        "suspended agency under a signed term",
        "outsider",
        "view",
        "jail",
        "C-1",
        "custody",
        (),
        SERVICES,
        False,
        "base/suspended-agency",
    ),
    # redisclosure
    (
        "received under no-redisclosure, passed on",
        "court_clerk",
        "view",
        "defender",
        "C-1",
        "custody",
        ("no_redisclosure",),
        ADJUDICATION,
        False,
        "base/no-redisclosure",
    ),
    (
        "defender's own custody record passed on",
        "court_clerk",
        "view",
        "defender",
        "C-1",
        "custody",
        (),
        ADJUDICATION,
        True,
        "agreement/MOU-COURT/v1/§2.2",
    ),
]


@pytest.fixture
def world(county):
    return build_world(county)


def _request(world, row):
    _, persona, action, owner, client, category, labels, purpose, _, _ = row
    actor = actor_for_user(world.county.people[persona])
    resource = Resource(world.county.agencies[owner].pk, client, category, frozenset(labels))
    return actor, action, resource, purpose


def test_it_has_at_least_forty_golden_rows():
    assert len(GOLDEN) >= 40
    assert len({row[0] for row in GOLDEN}) == len(GOLDEN)


def test_it_decides_every_golden_row_with_its_reason(world):
    failures = []
    for row in GOLDEN:
        actor, action, resource, purpose = _request(world, row)
        decision = decide(actor, action, resource, purpose)
        expected, prefix = row[8], row[9]
        ids = [r.policy_id for r in decision.reasons]
        if decision.allowed != expected or not any(i.startswith(prefix) for i in ids):
            failures.append(
                f"{row[0]}: expected {expected} by {prefix}, got {decision.allowed} by {ids}"
            )
    assert not failures, "\n".join(failures)


def test_it_decides_the_golden_rows_the_same_in_one_batch(world):
    singles = [decide(*_request(world, row)).allowed for row in GOLDEN]
    actors = {row[1]: _request(world, row)[0] for row in GOLDEN}
    batched = []
    for row in GOLDEN:
        _, action, resource, purpose = _request(world, row)
        batched.append(decide_requests(actors[row[1]], [(action, resource, purpose)])[0].allowed)
    assert singles == batched == [row[8] for row in GOLDEN]


def test_it_explains_decisions_in_the_words_of_the_agreement(world):
    actor, action, resource, purpose = _request(world, GOLDEN[0])
    decision = decide(actor, action, resource, purpose)
    assert decision.explanation() == (
        "Allowed by MOU-JAIL §3.2: TCJ → TPD, identity, custody events, charges, for "
        "defense representation (view, be notified)"
    )


def test_it_stops_an_agreement_at_the_end_of_its_expiry_day(world):
    jail_mou = world.agreements["jail"].versions.get(number=1)
    actor = actor_for_user(world.county.defender_attorney)
    resource = Resource(world.county.jail.pk, "C-1", "custody")
    last_day = jail_mou.expires_on
    on_last = decide_requests(actor, [("view", resource, DEFENSE)], today=last_day)[0]
    after = decide_requests(
        actor, [("view", resource, DEFENSE)], today=last_day + timedelta(days=1)
    )[0]
    assert on_last.allowed
    assert not after.allowed


def test_it_starts_a_signed_agreement_on_its_effective_date(world):
    future = world.agreements["future"].versions.get(number=1)
    actor = actor_for_user(world.county.defender_attorney)
    resource = Resource(world.county.jail.pk, "C-1", "housing")
    before = decide_requests(
        actor, [("view", resource, DEFENSE)], today=future.effective_on - timedelta(days=1)
    )[0]
    on_day = decide_requests(actor, [("view", resource, DEFENSE)], today=future.effective_on)[0]
    assert not before.allowed
    assert on_day.allowed
    assert timezone.localdate() < future.effective_on


def test_it_validates_the_live_policy_set_against_the_cedar_schema(world):
    import cedarpy

    from accord.policy.cedar import IN_FORCE_GUARD, SCHEMA
    from accord.policy.engine import snapshot

    snap = snapshot()
    result = cedarpy.validate_policies(snap.policy_text, SCHEMA)
    assert result.validation_passed, result.errors
    assert len(snap.terms) >= 10
    # Every permit an agreement compiled to carries its version's in-force guard.
    for term in snap.terms:
        guard = IN_FORCE_GUARD.format(agreement=f'Accord::Agreement::"{term.version_id}"')
        start = snap.policy_text.index(f'@id("{term.policy_id}")')
        assert guard in snap.policy_text[start : snap.policy_text.index("};", start)]
