"""The policy decision point: ``decide`` and ``decide_many``.

One :class:`Snapshot` per process holds the parsed Cedar policy set, the parsed entities
(agencies and agreement versions), the live sharing terms, the screens in force and a
cache of verdicts. It is rebuilt only when the token in :class:`PolicyVersion` changes,
which every action that changes an agreement, a consent, a screen or an agency bumps in
its own transaction; each batch of decisions reads the token once (one small query).

A verdict depends only on a tuple of attributes (principal agency, roles and attributes;
action; purpose; today; record owner, category and labels; and four per-client facts:
screened, and whether a matching consent of each kind exists), so verdicts are cached by
that tuple and shared across records and clients that look the same to the policy.

Agreements and consents plug in through :func:`register_term_source` and
:func:`register_consent_source` (called from their apps' ``ready()``), so this module
never imports them.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import cedarpy
from django.utils import timezone

from accord.core.actors import Actor
from accord.policy.cedar import (
    BASE_INFO,
    NAMESPACE,
    SCHEMA,
    AgreementWindow,
    Effect,
    PolicyInfo,
    TermSpec,
    compile_policy_set,
    day_number,
)
from accord.policy.models import ClientRecord, PolicyVersion
from accord.policy.vocabulary import (
    ConsentKind,
    SensitivityLabel,
    action_label,
    category_label,
    effective_labels,
    purpose_label,
)

log = logging.getLogger(__name__)

CACHE_LIMIT = 250_000
# Staff attributes a term may require; anything else on a profile is not policy input.
PRINCIPAL_ATTRIBUTES = (
    "bar_number",
    "sworn_officer",
    "part2_program",
    "badge_number",
    "licensed_clinician",
)


# --- the inputs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """What a decision is about: a record as the policy sees it."""

    owner_id: int
    client_key: str
    category: str
    labels: frozenset[str] = frozenset()
    ref: str = ""

    @classmethod
    def of(cls, record: ClientRecord) -> Resource:
        return cls(
            owner_id=record.owner_id,
            client_key=record.client_key,
            category=record.category,
            labels=record.label_set,
            ref=f"policy.clientrecord:{record.pk}",
        )

    @property
    def all_labels(self) -> frozenset[str]:
        return effective_labels(self.category, self.labels)

    @property
    def is_part2(self) -> bool:
        return SensitivityLabel.PART2 in self.all_labels


@dataclass(frozen=True)
class ConsentFact:
    """One active consent, reduced to what matching needs (built by the consent app)."""

    consent_id: int
    kind: str
    discloser_ids: frozenset[int]
    discloser_kinds: frozenset[str]
    recipient_ids: frozenset[int]
    recipient_kinds: frozenset[str]
    categories: frozenset[str]
    purposes: frozenset[str]
    valid_from: date
    expires_on: date | None

    def covers(
        self,
        *,
        owner_id: int,
        owner_kind: str,
        recipient_id: int,
        recipient_kind: str,
        category: str,
        purpose: str,
        today: date,
    ) -> bool:
        if today < self.valid_from or (self.expires_on is not None and today > self.expires_on):
            return False
        if owner_id not in self.discloser_ids and owner_kind not in self.discloser_kinds:
            return False
        if recipient_id not in self.recipient_ids and recipient_kind not in self.recipient_kinds:
            return False
        return category in self.categories and purpose in self.purposes


TermSource = Callable[[], tuple[list[TermSpec], list[AgreementWindow]]]
ConsentSource = Callable[[Collection[str]], dict[str, list[ConsentFact]]]


@dataclass
class _Sources:
    terms: TermSource | None = None
    consents: ConsentSource | None = None


_sources = _Sources()


def register_term_source(source: TermSource) -> None:
    """The agreements app gives the live sharing terms and the windows of their versions."""
    _sources.terms = source


def register_consent_source(source: ConsentSource) -> None:
    """The consent app gives the active consents of a set of clients."""
    _sources.consents = source


# --- the outputs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reasons: tuple[PolicyInfo, ...]
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """Allow or deny, and the clauses or rules that determined it."""

    allowed: bool
    action: str
    purpose: str
    resource: Resource
    reasons: tuple[PolicyInfo, ...]
    cross_agency: bool
    consent_ids: tuple[int, ...] = ()

    @property
    def effect_words(self) -> str:
        return "Allowed" if self.allowed else "Denied"

    def explanation(self) -> str:
        """One sentence: "Allowed by MOU 2026-04 §3.2: …" or "Denied by base rule: …"."""
        if not self.reasons:
            return self.effect_words
        if self.allowed:
            return "Allowed by " + "; and by ".join(r.words for r in self.reasons)
        forbids = [r for r in self.reasons if r.effect == Effect.FORBID]
        if forbids:
            return "Denied: " + "; and ".join(r.words for r in forbids)
        return "Denied: " + "; ".join(r.words for r in self.reasons)

    @property
    def terms(self) -> tuple[PolicyInfo, ...]:
        return tuple(r for r in self.reasons if r.term_id is not None)

    @property
    def needs_part2_notice(self) -> bool:
        return self.allowed and self.cross_agency and self.resource.is_part2


# --- the snapshot -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AgencyFacts:
    name: str
    kind: str
    suspended: bool


@dataclass
class Snapshot:
    """Everything parsed once per policy version."""

    token: str
    policy_text: str
    policies: cedarpy.PolicySet
    entities: cedarpy.Entities
    infos: dict[str, PolicyInfo]
    terms: list[TermSpec]
    windows: dict[int, AgreementWindow]
    agencies: dict[int, AgencyFacts]
    screens: dict[int, frozenset[str]]
    consents: dict[str, list[ConsentFact]] = field(default_factory=dict)
    cache: dict[tuple[Any, ...], Verdict] = field(default_factory=dict)

    def consents_for(self, client_keys: Iterable[str]) -> None:
        """Load (once per version) the active consents of these clients."""
        missing = {k for k in client_keys if k not in self.consents}
        if not missing:
            return
        found = _sources.consents(missing) if _sources.consents else {}
        for key in missing:
            self.consents[key] = found.get(key, [])

    def live_terms_for(self, recipient_id: int, today: date) -> list[TermSpec]:
        return [
            t
            for t in self.terms
            if t.recipient_id == recipient_id and self.windows[t.version_id].in_force_on(today)
        ]


class _Holder:
    def __init__(self) -> None:
        self.snapshot: Snapshot | None = None
        self.lock = threading.Lock()
        self.builds = 0


_holder = _Holder()


def current_token() -> str:
    return PolicyVersion.objects.filter(pk=1).values_list("token", flat=True).first() or ""


def snapshot() -> Snapshot:
    """The snapshot for the current policy version, rebuilt if anything changed."""
    token = current_token()
    held = _holder.snapshot
    if held is not None and held.token == token:
        return held
    with _holder.lock:
        held = _holder.snapshot
        if held is None or held.token != token:
            held = build_snapshot(token)
            _holder.snapshot = held
            _holder.builds += 1
    return held


def build_snapshot(
    token: str,
    terms: Sequence[TermSpec] | None = None,
    windows: Sequence[AgreementWindow] | None = None,
) -> Snapshot:
    """Parse the policy set and entities. ``terms``/``windows`` override the live ones
    (the dry run builds a hypothetical snapshot this way)."""
    from accord.directory.models import Agency
    from accord.policy.models import EthicalScreen

    if terms is None or windows is None:
        live_terms, live_windows = _sources.terms() if _sources.terms else ([], [])
        terms = live_terms if terms is None else terms
        windows = live_windows if windows is None else windows
    agencies = {
        pk: AgencyFacts(name, kind, status == "suspended")
        for pk, name, kind, status in Agency.objects.values_list(
            "pk", "short_name", "kind", "status"
        )
    }
    window_by_version = {w.version_id: w for w in windows}
    usable = [
        t
        for t in terms
        if t.version_id in window_by_version
        and t.discloser_id in agencies
        and t.recipient_id in agencies
    ]
    text = compile_policy_set(usable)
    entity_list: list[dict[str, Any]] = [
        {
            "uid": {"type": f"{NAMESPACE}::Agency", "id": str(pk)},
            "attrs": {"kind": facts.kind, "suspended": facts.suspended},
            "parents": [],
        }
        for pk, facts in agencies.items()
    ]
    entity_list += [w.entity() for w in window_by_version.values()]
    screens: dict[int, set[str]] = {}
    for staff_id, client_key in EthicalScreen.objects.in_force().values_list(
        "staff_id", "client_key"
    ):
        screens.setdefault(staff_id, set()).add(client_key)
    infos = dict(BASE_INFO)
    infos.update({t.policy_id: t.info() for t in usable})
    return Snapshot(
        token=token,
        policy_text=text,
        policies=cedarpy.PolicySet.from_str(text),
        entities=cedarpy.Entities.from_json_str(json.dumps(entity_list), SCHEMA),
        infos=infos,
        terms=list(usable),
        windows=window_by_version,
        agencies=agencies,
        screens={k: frozenset(v) for k, v in screens.items()},
    )


# --- deciding ---------------------------------------------------------------------------------


def principal_key(actor: Actor) -> tuple[int, tuple[str, ...], tuple[str, ...]]:
    """What of the actor the policy reads: agency, roles, attributes that are set."""
    attributes = tuple(
        sorted(
            name
            for name in PRINCIPAL_ATTRIBUTES
            if actor.attributes.get(name) not in (None, False, "", 0)
        )
    )
    return (int(actor.agency_id or 0), tuple(sorted(actor.roles)), attributes)


def _facts(
    snap: Snapshot,
    actor: Actor,
    resource: Resource,
    purpose: str,
    today: date,
) -> tuple[bool, bool, bool, bool, tuple[int, ...]]:
    """(screened, general, part2, proceedings, consent ids that matched)."""
    screened = actor.user_id is not None and resource.client_key in snap.screens.get(
        actor.user_id, frozenset()
    )
    recipient_id = int(actor.agency_id or 0)
    if resource.owner_id == recipient_id:
        return screened, False, False, False, ()
    owner = snap.agencies.get(resource.owner_id)
    recipient = snap.agencies.get(recipient_id)
    kinds: set[str] = set()
    ids: list[int] = []
    for fact in snap.consents.get(resource.client_key, ()):
        if fact.covers(
            owner_id=resource.owner_id,
            owner_kind=owner.kind if owner else "",
            recipient_id=recipient_id,
            recipient_kind=recipient.kind if recipient else "",
            category=resource.category,
            purpose=purpose,
            today=today,
        ):
            kinds.add(fact.kind)
            ids.append(fact.consent_id)
    return (
        screened,
        ConsentKind.GENERAL in kinds,
        ConsentKind.PART2 in kinds,
        ConsentKind.PROCEEDINGS in kinds,
        tuple(ids),
    )


def _default_reason(
    snap: Snapshot, actor: Actor, action: str, resource: Resource, purpose: str
) -> PolicyInfo:
    owner = snap.agencies.get(resource.owner_id)
    recipient = snap.agencies.get(int(actor.agency_id or 0))
    words = (
        f"no agreement in force allows {recipient.name if recipient else 'this agency'} to "
        f"{action_label(action).lower()} {category_label(resource.category).lower()} from "
        f"{owner.name if owner else 'this agency'} for {purpose_label(purpose).lower()}"
    )
    return PolicyInfo("default-deny", Effect.DEFAULT, words)


SYSTEM_REASON = PolicyInfo("system", Effect.PERMIT, "Accord itself (maintenance and delivery)")
NO_AGENCY_REASON = PolicyInfo("no-agency", Effect.DEFAULT, "the actor acts for no agency")


def decide(actor: Actor, action: str, resource: Resource, purpose: str) -> Decision:
    """Allow or deny one request, with the reasons."""
    return decide_requests(actor, [(action, resource, purpose)])[0]


def decide_many(
    actor: Actor, action: str, resources: Sequence[Resource], purpose: str
) -> list[Decision]:
    """One batch: the same action and purpose over many records (a list page, a feed)."""
    return decide_requests(actor, [(action, r, purpose) for r in resources])


def decide_requests(
    actor: Actor,
    requests: Sequence[tuple[str, Resource, str]],
    *,
    today: date | None = None,
    snap: Snapshot | None = None,
) -> list[Decision]:
    """Decide a batch of (action, resource, purpose); one version check, one Cedar batch
    for the attribute tuples not already cached."""
    if not requests:
        return []
    if actor.is_system:
        return [
            Decision(True, a, p, r, (SYSTEM_REASON,), cross_agency=False) for a, r, p in requests
        ]
    if actor.agency_id is None:
        return [
            Decision(False, a, p, r, (NO_AGENCY_REASON,), cross_agency=True) for a, r, p in requests
        ]
    snap = snap or snapshot()
    today = today or timezone.localdate()
    snap.consents_for({r.client_key for _, r, _ in requests})
    principal = principal_key(actor)
    keys: list[tuple[Any, ...]] = []
    consent_ids: list[tuple[int, ...]] = []
    for action, resource, purpose in requests:
        screened, general, part2, proceedings, ids = _facts(snap, actor, resource, purpose, today)
        keys.append(
            (
                principal,
                action,
                purpose,
                day_number(today),
                resource.owner_id,
                resource.category,
                tuple(sorted(resource.all_labels)),
                screened,
                general,
                part2,
                proceedings,
            )
        )
        consent_ids.append(ids)
    missing = list(dict.fromkeys(k for k in keys if k not in snap.cache))
    if missing:
        verdicts = _evaluate(snap, missing)
        if len(snap.cache) + len(verdicts) > CACHE_LIMIT:
            snap.cache.clear()
        snap.cache.update(verdicts)
    decisions = []
    for key, ids, (action, resource, purpose) in zip(keys, consent_ids, requests, strict=True):
        verdict = snap.cache[key]
        reasons = verdict.reasons or (_default_reason(snap, actor, action, resource, purpose),)
        cross = resource.owner_id != actor.agency_id
        decisions.append(
            Decision(
                verdict.allowed,
                action,
                purpose,
                resource,
                reasons,
                cross_agency=cross,
                consent_ids=ids if verdict.allowed and cross else (),
            )
        )
    return decisions


STAFF = f"{NAMESPACE}::Staff"
ACTION = f"{NAMESPACE}::Action"
RECORD = f"{NAMESPACE}::Record"
CONTEXT = (
    '{"purpose":%s,"today":%d,"screened":%s,"general_consent":%s,'
    '"part2_consent":%s,"proceedings_consent":%s}'
)
_BOOL = {True: "true", False: "false"}


def _evaluate(snap: Snapshot, keys: Sequence[tuple[Any, ...]]) -> dict[tuple[Any, ...], Verdict]:
    """Ask Cedar about each attribute tuple; principals and records are synthetic entities
    named after the tuple, added to the parsed base entities for this batch only."""
    principals: dict[tuple[Any, ...], str] = {}
    records: dict[tuple[Any, ...], str] = {}
    delta: list[dict[str, Any]] = []
    requests = []
    for key in keys:
        principal, action, purpose, today, owner, category, labels = key[:7]
        screened, general, part2, proceedings = key[7:]
        if principal not in principals:
            pid = f"p{len(principals)}"
            principals[principal] = pid
            agency_uid = {"type": f"{NAMESPACE}::Agency", "id": str(principal[0])}
            delta.append(
                {
                    "uid": {"type": f"{NAMESPACE}::Staff", "id": pid},
                    "attrs": {
                        "agency": {"__entity": agency_uid},
                        "roles": list(principal[1]),
                        "attributes": list(principal[2]),
                    },
                    "parents": [agency_uid],
                }
            )
        record_key = (owner, category, labels)
        if record_key not in records:
            rid = f"r{len(records)}"
            records[record_key] = rid
            delta.append(
                {
                    "uid": {"type": f"{NAMESPACE}::Record", "id": rid},
                    "attrs": {
                        "owner": {"__entity": {"type": f"{NAMESPACE}::Agency", "id": str(owner)}},
                        "category": category,
                        "labels": list(labels),
                    },
                    "parents": [],
                }
            )
        requests.append(
            {
                "principal": {"type": STAFF, "id": principals[principal]},
                "action": {"type": ACTION, "id": action},
                "resource": {"type": RECORD, "id": records[record_key]},
                # Pre-serialized: the codes are validated vocabulary, and formatting one
                # string is several times cheaper than json.dumps of a dict per request.
                "context": CONTEXT
                % (
                    json.dumps(purpose),
                    int(today),
                    _BOOL[screened],
                    _BOOL[general],
                    _BOOL[part2],
                    _BOOL[proceedings],
                ),
            }
        )
    _ensure_agencies(snap, [p[0] for p in principals] + [r[0] for r in records], delta)
    entities = snap.entities.with_added_json_str(json.dumps(delta))
    results = cedarpy.is_authorized_batch(requests, snap.policies, entities)
    verdicts = {}
    # Many tuples end the same way (same decision, same determining policies): build each
    # distinct verdict once.
    seen: dict[tuple[bool, tuple[str, ...], tuple[str, ...]], Verdict] = {}
    for key, result in zip(keys, results, strict=True):
        diagnostics = result.diagnostics
        outcome = (result.allowed, tuple(diagnostics.reasons), tuple(map(str, diagnostics.errors)))
        verdict = seen.get(outcome)
        if verdict is None:
            verdict = _verdict(snap, outcome, diagnostics.id_annotations_by_reason)
            seen[outcome] = verdict
        verdicts[key] = verdict
    return verdicts


def _verdict(
    snap: Snapshot,
    outcome: tuple[bool, tuple[str, ...], tuple[str, ...]],
    annotations: Mapping[str, str],
) -> Verdict:
    allowed, reasons, errors = outcome
    if errors:
        log.warning("policy evaluation errors (treated as deny): %s", errors)
    infos = []
    for pid in reasons:
        policy_id = annotations.get(pid, pid)
        info = snap.infos.get(policy_id)
        infos.append(info if info is not None else PolicyInfo(policy_id, Effect.FORBID, pid))
    wanted = Effect.PERMIT if allowed else Effect.FORBID
    return Verdict(allowed, _ordered(i for i in infos if i.effect == wanted), errors)


def _ensure_agencies(
    snap: Snapshot, agency_ids: Iterable[int], delta: list[dict[str, Any]]
) -> None:
    """An agency the snapshot does not know (id 0 for an actor without one, or a record of
    an agency deleted since) gets a stand-in that is suspended, so it can never receive."""
    for agency_id in set(agency_ids) - set(snap.agencies):
        delta.append(
            {
                "uid": {"type": f"{NAMESPACE}::Agency", "id": str(agency_id)},
                "attrs": {"kind": "unknown", "suspended": True},
                "parents": [],
            }
        )


def _ordered(infos: Iterable[PolicyInfo]) -> tuple[PolicyInfo, ...]:
    # Agreement clauses before the own-agency rule, then by id: stable explanations.
    return tuple(sorted(set(infos), key=lambda i: (i.term_id is None, i.policy_id)))


def explain_denial_terms(
    snap: Snapshot, actor: Actor, request: tuple[str, Resource, str], today: date
) -> list[tuple[TermSpec, list[str]]]:
    """For a denial: the terms between these two agencies and what each one lacks."""
    action, resource, purpose = request
    principal_agency, roles, attributes = principal_key(actor)
    _, general, part2, proceedings, _ = _facts(snap, actor, resource, purpose, today)
    found = []
    for term in snap.terms:
        if term.discloser_id != resource.owner_id or term.recipient_id != principal_agency:
            continue
        lacks = []
        window = snap.windows[term.version_id]
        if not window.in_force_on(today):
            when = (
                f"takes effect on {window.effective_on:%Y-%m-%d}"
                if today < window.effective_on
                else f"ended on {window.ends_on:%Y-%m-%d}"
            )
            lacks.append(f"the agreement version is not in force today ({when})")
        if resource.category not in term.categories:
            lacks.append(f"it does not cover {category_label(resource.category).lower()}")
        if purpose not in term.purposes:
            lacks.append(f"it does not cover the purpose {purpose_label(purpose).lower()}")
        if action not in term.actions:
            lacks.append(f"it does not allow the action {action_label(action).lower()}")
        if term.recipient_role and term.recipient_role not in roles:
            lacks.append(f"it is limited to the role {term.recipient_role.replace('_', ' ')}")
        missing = sorted(set(term.recipient_attributes) - set(attributes))
        if missing:
            lacks.append("the recipient lacks " + ", ".join(m.replace("_", " ") for m in missing))
        if term.consent == "client" and not (general or part2):
            lacks.append("it needs the client's consent, and none on file covers this")
        if term.consent == "part2" and not (part2 or proceedings):
            lacks.append("it needs a 42 CFR Part 2 consent, and none on file covers this")
        if SensitivityLabel.JUVENILE in resource.all_labels and not term.covers_juvenile:
            lacks.append("it does not name juvenile records")
        found.append((term, lacks))
    return found


def stats() -> Mapping[str, int]:
    held = _holder.snapshot
    return {
        "builds": _holder.builds,
        "cached_verdicts": len(held.cache) if held else 0,
        "terms": len(held.terms) if held else 0,
    }
