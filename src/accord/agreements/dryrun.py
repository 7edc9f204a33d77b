"""The dry run: "if this version were in force today, these flows would start and these
would stop", counted over the records in the database by category, purpose, recipient
agency and action, before anyone signs.

It compiles two policy sets that differ only in this agreement (today's live terms, and
the same with this agreement's terms replaced by the version's), and asks both about every
flow either could touch: each record of a disclosing agency in these terms, for a recipient
who meets the term (its role and attributes), for each of the term's purposes and actions.
Consents and base rules apply as in any decision.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count
from django.utils import timezone

from accord.agreements.live import live_terms
from accord.agreements.models import AgreementVersion
from accord.core.actors import Actor
from accord.policy import codesets
from accord.policy.cedar import AgreementWindow, TermSpec
from accord.policy.engine import Resource, Snapshot, build_snapshot, decide_requests
from accord.policy.models import ClientRecord
from accord.policy.vocabulary import action_label, category_label, purpose_label


@dataclass(frozen=True)
class FlowCount:
    category: str
    purpose: str
    recipient: str
    action: str
    records: int
    clients: int

    @property
    def words(self) -> str:
        return (
            f"{self.recipient}: {action_label(self.action).lower()} "
            f"{category_label(self.category).lower()} for {purpose_label(self.purpose).lower()}"
        )


@dataclass
class DryRun:
    version: AgreementVersion
    today: date
    started: list[FlowCount] = field(default_factory=list)
    stopped: list[FlowCount] = field(default_factory=list)
    unchanged_allowed: int = 0
    records_considered: int = 0

    @property
    def changes(self) -> bool:
        return bool(self.started or self.stopped)


def _version_terms(version: AgreementVersion) -> list[TermSpec]:
    return [
        t.spec()
        for t in version.terms.select_related("version__agreement", "discloser", "recipient")
    ]


def _principal(term: TermSpec) -> Actor:
    """The recipient a term is written for: of its agency, with its role and attributes."""
    roles = frozenset({term.recipient_role}) if term.recipient_role else frozenset()
    return Actor(
        label=f"dry-run recipient of {term.recipient_name}",
        agency_id=term.recipient_id,
        roles=roles,
        attributes=dict.fromkeys(term.recipient_attributes, True),
    )


def dry_run(version: AgreementVersion, *, today: date | None = None) -> DryRun:
    """Compare today's flows with the flows if ``version`` were in force today."""
    today = today or timezone.localdate()
    agreement_id = version.agreement_id
    terms, windows = live_terms()
    before_terms = list(terms)
    after_terms = [t for t in terms if t.agreement_id != agreement_id] + _version_terms(version)
    after_windows = [w for w in windows if w.agreement_id != agreement_id] + [
        AgreementWindow(
            version.pk, agreement_id, version.agreement.reference, today, version.expires_on
        )
    ]
    before = build_snapshot("dry-run-before", before_terms, windows)
    after = build_snapshot("dry-run-after", after_terms, after_windows)
    touched = [t for t in before_terms if t.agreement_id == agreement_id] + _version_terms(version)
    result = DryRun(version=version, today=today)
    if not touched:
        return result
    owners = {t.discloser_id for t in touched}
    categories = {c for t in touched for c in t.categories}
    groups = list(
        ClientRecord.objects.filter(owner_id__in=owners, category__in=categories)
        .values("owner_id", "client_key", "category", "labels")
        .annotate(n=Count("pk"))
    )
    result.records_considered = sum(g["n"] for g in groups)
    started: Counter[tuple[str, str, int, str]] = Counter()
    stopped: Counter[tuple[str, str, int, str]] = Counter()
    started_clients: dict[tuple[str, str, int, str], set[str]] = {}
    stopped_clients: dict[tuple[str, str, int, str], set[str]] = {}
    seen: set[tuple[Any, ...]] = set()
    for term in touched:
        actor = _principal(term)
        mine = [g for g in groups if g["owner_id"] == term.discloser_id]
        requests = []
        for group in mine:
            resource = Resource(
                group["owner_id"],
                group["client_key"],
                group["category"],
                frozenset(codesets.decode(group["labels"])),
            )
            for purpose in term.purposes:
                for act in term.actions:
                    seen_key = (
                        term.recipient_id,
                        term.recipient_role,
                        term.recipient_attributes,
                        resource,
                        purpose,
                        act,
                    )
                    if seen_key not in seen:
                        seen.add(seen_key)
                        requests.append((act, resource, purpose, group["n"]))
        if not requests:
            continue
        asked = [(a, r, p) for a, r, p, _ in requests]
        was = _decide(before, actor, asked, today)
        will = _decide(after, actor, asked, today)
        for (act, resource, purpose, n), old, new in zip(requests, was, will, strict=True):
            key = (resource.category, purpose, term.recipient_id, act)
            if new and not old:
                started[key] += n
                started_clients.setdefault(key, set()).add(resource.client_key)
            elif old and not new:
                stopped[key] += n
                stopped_clients.setdefault(key, set()).add(resource.client_key)
            elif old and new:
                result.unchanged_allowed += n
    names = before.agencies | after.agencies
    result.started = _counts(started, started_clients, names)
    result.stopped = _counts(stopped, stopped_clients, names)
    return result


def _decide(
    snap: Snapshot, actor: Actor, requests: list[tuple[str, Resource, str]], today: date
) -> list[bool]:
    return [d.allowed for d in decide_requests(actor, requests, today=today, snap=snap)]


def _counts(
    counter: Counter[tuple[str, str, int, str]],
    clients: dict[tuple[str, str, int, str], set[str]],
    names: dict[int, Any],
) -> list[FlowCount]:
    rows = [
        FlowCount(
            category,
            purpose,
            names[recipient].name if recipient in names else "?",
            act,
            n,
            len(clients[(category, purpose, recipient, act)]),
        )
        for (category, purpose, recipient, act), n in counter.items()
    ]
    return sorted(rows, key=lambda r: (-r.records, r.recipient, r.category, r.purpose))
