"""Properties of the decision point, over generated agreements, consents and records:

* nothing crosses an agency boundary unless a term in force covers it;
* a forbid always wins (privileged, sealed, no-redisclosure, screens, suspension);
* revoking a consent or ending an agreement never grants anything;
* ``decide`` and ``visible_to`` agree on every generated case.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.consent.testing import make_consent
from accord.core.actors import SYSTEM, Actor
from accord.directory.actions import suspend_agency
from accord.directory.models import Agency
from accord.policy import engine
from accord.policy.actions import bump_policy_version, register_record
from accord.policy.cedar import AgreementWindow, TermSpec
from accord.policy.engine import ConsentFact, Resource, build_snapshot, decide_requests
from accord.policy.models import ClientRecord

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 15)
AGENCIES = ("defender", "jail", "court", "provider")
CATEGORIES = (
    "custody",
    "court_events",
    "mental_health",
    "substance_use_part2",
    "housing",
    "juvenile",
)
PURPOSES = ("defense_representation", "treatment", "prosecution")
ACTIONS = ("view", "notify")
LABELS = ("sealed", "juvenile", "privileged", "no_redisclosure", "part2")
CLIENTS = ("C-1", "C-2", "C-3")
PROFILE = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

window_kinds = st.sampled_from(["in_force", "expired", "future"])
subsets = st.lists


def _window(kind: str, version_id: int) -> AgreementWindow:
    starts = {"in_force": -30, "expired": -400, "future": 10}[kind]
    ends = {"in_force": 300, "expired": -1, "future": 400}[kind]
    return AgreementWindow(
        version_id,
        version_id,
        f"A-{version_id}",
        TODAY + timedelta(days=starts),
        TODAY + timedelta(days=ends),
    )


@st.composite
def term_specs(draw: st.DrawFn) -> list[tuple[dict[str, Any], str]]:
    """Up to five terms, each as (fields without agency ids, window kind)."""
    found = []
    for _ in range(draw(st.integers(0, 5))):
        discloser, recipient = draw(
            st.lists(st.sampled_from(AGENCIES), min_size=2, max_size=2, unique=True)
        )
        found.append(
            (
                {
                    "discloser": discloser,
                    "recipient": recipient,
                    "categories": tuple(
                        draw(
                            subsets(
                                st.sampled_from(CATEGORIES), min_size=1, max_size=3, unique=True
                            )
                        )
                    ),
                    "purposes": tuple(
                        draw(
                            subsets(st.sampled_from(PURPOSES), min_size=1, max_size=2, unique=True)
                        )
                    ),
                    "actions": tuple(
                        draw(subsets(st.sampled_from(ACTIONS), min_size=1, unique=True))
                    ),
                    "consent": draw(st.sampled_from(["none", "client", "part2"])),
                    "recipient_role": draw(st.sampled_from(["", "", "attorney"])),
                    "recipient_attributes": tuple(
                        draw(
                            subsets(st.sampled_from(["sworn_officer", "part2_program"]), max_size=1)
                        )
                    ),
                },
                draw(window_kinds),
            )
        )
    return found


@st.composite
def requests(draw: st.DrawFn) -> list[tuple[str, str, str, frozenset[str], str, str]]:
    """(owner, client, category, labels, purpose, action) tuples."""
    return draw(
        st.lists(
            st.tuples(
                st.sampled_from(AGENCIES),
                st.sampled_from(CLIENTS),
                st.sampled_from(CATEGORIES),
                st.frozensets(st.sampled_from(LABELS), max_size=2),
                st.sampled_from(PURPOSES),
                st.sampled_from(ACTIONS),
            ),
            min_size=1,
            max_size=12,
        )
    )


@st.composite
def principals(draw: st.DrawFn) -> tuple[str, frozenset[str], tuple[str, ...]]:
    return (
        draw(st.sampled_from(AGENCIES)),
        draw(st.frozensets(st.sampled_from(["attorney", "officer", "case_worker"]), max_size=2)),
        tuple(
            draw(
                subsets(
                    st.sampled_from(["sworn_officer", "part2_program"]), max_size=2, unique=True
                )
            )
        ),
    )


@st.composite
def consent_specs(draw: st.DrawFn) -> list[dict[str, object]]:
    found = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["general", "part2", "proceedings"]))
        purposes = (
            ["prosecution"]
            if kind == "proceedings"
            else draw(
                subsets(
                    st.sampled_from(["defense_representation", "treatment"]),
                    min_size=1,
                    unique=True,
                )
            )
        )
        categories = draw(subsets(st.sampled_from(CATEGORIES), min_size=1, max_size=3, unique=True))
        if kind == "part2" and "substance_use_part2" not in categories:
            categories.append("substance_use_part2")
        found.append(
            {
                "kind": kind,
                "client_key": draw(st.sampled_from(CLIENTS)),
                "disclosers": draw(
                    subsets(st.sampled_from(AGENCIES), min_size=1, max_size=2, unique=True)
                ),
                "recipients": draw(
                    subsets(st.sampled_from(AGENCIES), min_size=1, max_size=2, unique=True)
                ),
                "categories": categories,
                "purposes": purposes,
                "expired": draw(st.booleans()),
            }
        )
    return found


def _terms(county, specs) -> tuple[list[TermSpec], list[AgreementWindow]]:
    terms, windows = [], []
    for index, (fields, kind) in enumerate(specs, start=1):
        discloser = county.agencies[fields["discloser"]]
        recipient = county.agencies[fields["recipient"]]
        terms.append(
            TermSpec(
                term_id=index,
                agreement_id=index,
                version_id=index,
                reference=f"A-{index}",
                version_number=1,
                clause="1",
                discloser_id=discloser.pk,
                discloser_name=discloser.short_name,
                recipient_id=recipient.pk,
                recipient_name=recipient.short_name,
                categories=fields["categories"],
                purposes=fields["purposes"],
                actions=fields["actions"],
                consent=fields["consent"],
                recipient_role=fields["recipient_role"],
                recipient_attributes=fields["recipient_attributes"],
            )
        )
        windows.append(_window(kind, index))
    return terms, windows


def _facts(county, specs) -> dict[str, list[ConsentFact]]:
    found: dict[str, list[ConsentFact]] = {}
    for index, spec in enumerate(specs, start=1):
        found.setdefault(spec["client_key"], []).append(
            ConsentFact(
                consent_id=index,
                kind=spec["kind"],
                discloser_ids=frozenset(county.agencies[a].pk for a in spec["disclosers"]),
                discloser_kinds=frozenset(),
                recipient_ids=frozenset(county.agencies[a].pk for a in spec["recipients"]),
                recipient_kinds=frozenset(),
                categories=frozenset(spec["categories"]),
                purposes=frozenset(spec["purposes"]),
                valid_from=TODAY - timedelta(days=60),
                expires_on=TODAY - timedelta(days=1) if spec["expired"] else None,
            )
        )
    return found


def _actor(county, principal) -> Actor:
    agency, roles, attributes = principal
    return Actor(
        label="generated",
        agency_id=county.agencies[agency].pk,
        roles=roles,
        attributes=dict.fromkeys(attributes, True),
    )


def _decide(county, snap, actor, reqs):
    asked = [
        (action, Resource(county.agencies[owner].pk, client, category, labels), purpose)
        for owner, client, category, labels, purpose, action in reqs
    ]
    return asked, decide_requests(actor, asked, today=TODAY, snap=snap)


def _snapshot(terms, windows, facts):
    snap = build_snapshot("generated", terms, windows)
    for key in CLIENTS:
        snap.consents[key] = facts.get(key, [])
    return snap


@PROFILE
@given(specs=term_specs(), consents=consent_specs(), principal=principals(), reqs=requests())
def test_it_denies_every_crossing_no_term_in_force_covers(county, specs, consents, principal, reqs):
    terms, windows = _terms(county, specs)
    snap = _snapshot(terms, windows, _facts(county, consents))
    actor = _actor(county, principal)
    by_version = {w.version_id: w for w in windows}
    for (action, resource, purpose), decision in zip(
        *_decide(county, snap, actor, reqs), strict=True
    ):
        if not decision.allowed or resource.owner_id == actor.agency_id:
            continue
        covering = [
            t
            for t in terms
            if by_version[t.version_id].in_force_on(TODAY)
            and t.discloser_id == resource.owner_id
            and t.recipient_id == actor.agency_id
            and resource.category in t.categories
            and purpose in t.purposes
            and action in t.actions
        ]
        assert covering, f"{action} {resource} for {purpose} allowed with no term in force"
        assert {r.term_id for r in decision.reasons} <= {t.term_id for t in covering}


@PROFILE
@given(
    specs=term_specs(),
    principal=principals(),
    reqs=requests(),
    suspended=st.booleans(),
    screened=st.sampled_from(CLIENTS),
)
def test_it_lets_a_forbid_win_over_any_term(county, *, specs, principal, reqs, suspended, screened):
    terms, windows = _terms(county, specs)
    # A blanket term in force from every agency to the principal's: only forbids can deny.
    actor = replace(_actor(county, principal), user_id=999_999)
    for index, owner in enumerate(AGENCIES, start=100):
        if county.agencies[owner].pk == actor.agency_id:
            continue
        terms.append(
            TermSpec(
                term_id=index,
                agreement_id=index,
                version_id=index,
                reference="BLANKET",
                version_number=1,
                clause="1",
                discloser_id=county.agencies[owner].pk,
                discloser_name=owner,
                recipient_id=int(actor.agency_id or 0),
                recipient_name="r",
                categories=CATEGORIES,
                purposes=PURPOSES,
                actions=ACTIONS,
            )
        )
        windows.append(_window("in_force", index))
    if suspended:
        with _rolled_back():
            agency = Agency.objects.get(pk=county.agencies[principal[0]].pk)
            suspend_agency(agency, "generated", actor=SYSTEM)
            snap = _snapshot(terms, windows, {})
    else:
        snap = _snapshot(terms, windows, {})
    snap.screens = {999_999: frozenset({screened})}
    for (_, resource, _), decision in zip(*_decide(county, snap, actor, reqs), strict=True):
        cross = resource.owner_id != actor.agency_id
        forbidden = resource.client_key == screened or (
            cross
            and (
                suspended or bool(resource.all_labels & {"privileged", "sealed", "no_redisclosure"})
            )
        )
        # The property is an implication: a forbidden request is denied, by a forbid.
        assert not (forbidden and decision.allowed)
        assert not forbidden or decision.reasons[0].effect == "forbid"


@PROFILE
@given(
    specs=term_specs(),
    consents=consent_specs(),
    principal=principals(),
    reqs=requests(),
    drop_consent=st.integers(0, 2),
    drop_term=st.integers(0, 4),
)
def test_it_never_grants_by_revoking_or_ending(
    county, *, specs, consents, principal, reqs, drop_consent, drop_term
):
    terms, windows = _terms(county, specs)
    actor = _actor(county, principal)
    before = _snapshot(terms, windows, _facts(county, consents))
    allowed_before = [d.allowed for d in _decide(county, before, actor, reqs)[1]]
    revoked = [c for i, c in enumerate(consents) if i != drop_consent]
    after_revocation = _snapshot(terms, windows, _facts(county, revoked))
    ended = [
        w if w.version_id != drop_term + 1 else replace(w, ends_on=TODAY - timedelta(days=1))
        for w in windows
    ]
    after_ending = _snapshot(terms, ended, _facts(county, consents))
    for after in (after_revocation, after_ending):
        allowed_after = [d.allowed for d in _decide(county, after, actor, reqs)[1]]
        assert all(b or not a for a, b in zip(allowed_after, allowed_before, strict=True))


@contextmanager
def _rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@contextmanager
def _live_terms(terms, windows) -> Iterator[None]:
    saved = engine._sources.terms
    engine.register_term_source(lambda: (list(terms), list(windows)))
    try:
        yield
    finally:
        engine._sources.terms = saved


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=term_specs(), consents=consent_specs(), principal=principals(), reqs=requests())
def test_it_filters_in_sql_exactly_as_it_decides(county, specs, consents, principal, reqs):
    today = timezone.localdate()
    shift = today - TODAY
    terms, windows = _terms(county, specs)
    windows = [
        replace(
            w,
            effective_on=w.effective_on + shift,
            ends_on=(w.ends_on + shift) if w.ends_on else None,
        )
        for w in windows
    ]
    actor = _actor(county, principal)
    with _rolled_back(), _live_terms(terms, windows):
        for spec in consents:
            make_consent(
                county.provider,
                kind=spec["kind"],
                client_key=spec["client_key"],
                disclosers=[county.agencies[a] for a in spec["disclosers"]],
                recipients=[county.agencies[a] for a in spec["recipients"]],
                categories=spec["categories"],
                purposes=spec["purposes"],
                signed_at=timezone.now() - timedelta(days=60),
                expires_on=today - timedelta(days=1) if spec["expired"] else None,
                expiry_event="" if spec["expired"] else "end of the case",
            )
        for owner, client, category, labels, _, _ in reqs:
            register_record(
                county.agencies[owner],
                actor=SYSTEM,
                client_key=client,
                category=category,
                labels=labels,
                summary="generated",
            )
        bump_policy_version("generated case")
        records = list(ClientRecord.objects.all())
        for purpose in PURPOSES:
            visible = set(
                ClientRecord.objects.visible_to(actor, purpose).values_list("pk", flat=True)
            )
            decided = {
                r.pk
                for r, d in zip(
                    records,
                    engine.decide_many(actor, "view", [Resource.of(r) for r in records], purpose),
                    strict=True,
                )
                if d.allowed
            }
            assert visible == decided, purpose
