"""Building agreements through the real actions, for tests, benchmarks and the demo."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any
from unittest import mock

from django.utils import timezone

from accord.accounts.identity import actor_for_user
from accord.accounts.models import User
from accord.agreements import actions
from accord.agreements.models import Agreement, PartyRole
from accord.core.actors import SYSTEM, Actor
from accord.directory.models import Agency


@contextmanager
def on_day(day: date) -> Iterator[None]:
    """Run the enclosed actions as if it were noon on ``day`` (to build a history with
    agreements that have already expired). Patches Django's clock, nothing of ours."""
    moment = datetime(day.year, day.month, day.day, 12, tzinfo=timezone.get_current_timezone())
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def body_for(
    terms: Sequence[Mapping[str, Any]],
    obligations: Sequence[Mapping[str, Any]] = (),
    title: str = "",
) -> str:
    """A numbered clause text that contains every clause the terms and obligations cite."""
    clauses = sorted(
        {str(t["clause"]) for t in [*terms, *obligations]},
        key=lambda c: [int(p) for p in c.split(".")],
    )
    lines = [f"1. Purpose. The parties agree {title or 'to share information as set out below'}."]
    lines += [
        f"{c} The parties share and act as the terms under this clause state."
        for c in clauses
        if c != "1"
    ]
    return "\n".join(lines)


def make_agreement(
    reference: str,
    parties: Sequence[tuple[Agency, User]],
    terms: Sequence[Mapping[str, Any]] = (),
    *,
    obligations: Sequence[Mapping[str, Any]] = (),
    escalation: Sequence[tuple[str, int | None]] = (),
    title: str = "",
    kind: str = "mou",
    effective_on: date | None = None,
    expires_on: date | None = None,
    review_on: date | None = None,
    signers: Sequence[User] | None = None,
    actor: Actor = SYSTEM,
) -> Agreement:
    """Draft, fill, send for signature and have ``signers`` sign (default: every party).
    Pass ``signers=[]`` to leave it awaiting signatures, or a partial list."""
    today = timezone.localdate()
    effective_on = effective_on or today - timedelta(days=30)
    expires_on = expires_on or today + timedelta(days=365)
    agreement = actions.create_agreement(
        actor=actor,
        reference=reference,
        title=title or f"Agreement {reference}",
        kind=kind,
        effective_on=effective_on,
        expires_on=expires_on,
        review_on=review_on,
        body=body_for(terms, obligations, title),
        parties=[(agency, PartyRole.MUTUAL) for agency, _ in parties],
    )
    for agency, signatory in parties:
        actions.set_party(
            agreement, agency, actor=actor, role=PartyRole.MUTUAL, signatory=signatory
        )
    version = agreement.versions.get(number=1)
    for term in terms:
        actions.add_term(version, actor=actor, **term)
    for obligation in obligations:
        actions.add_obligation(version, actor=actor, **obligation)
    for level, days in escalation:
        actions.add_escalation_step(version, actor=actor, level=level, within_days=days)
    actions.request_signatures(version, actor=actor)
    for signer in signatories(parties) if signers is None else signers:
        version.refresh_from_db()
        actions.sign_version(version, actor=actor_for_user(signer), reauthenticated=True)
    agreement.refresh_from_db()
    return agreement


def signatories(parties: Sequence[tuple[Agency, User]]) -> list[User]:
    return [user for _, user in parties]


def term(
    clause: str,
    discloser: Agency,
    recipient: Agency,
    categories: Sequence[str],
    purposes: Sequence[str],
    *,
    actions_: Sequence[str] = ("view", "notify"),
    **extra: Any,
) -> dict[str, Any]:
    return {
        "clause": clause,
        "discloser": discloser.pk,
        "recipient": recipient.pk,
        "categories": list(categories),
        "purposes": list(purposes),
        "actions": list(actions_),
        **extra,
    }
