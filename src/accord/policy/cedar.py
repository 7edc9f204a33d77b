"""Cedar text: the schema, the base policies no agreement can override, and the compiler
that turns each sharing term of a signed agreement into one ``permit`` policy.

Why it is shaped this way:

* A request is (principal: the recipient staff member or system, action: view / notify /
  receive_copy, resource: a record described by owner agency, category and labels) with a
  context of purpose, today's date and the facts that depend on one client (is the
  principal screened from them, is there a matching consent of each kind). Those facts are
  found in Python from the consent and screen tables and passed as booleans, because Cedar
  has no way to search a set of records; everything else is decided by Cedar.
* Every compiled permit carries the in-force guard of its agreement version
  (``effective_on <= today <= ends_on``). Cedar cannot state "an expired agreement allows
  nothing" as a ``forbid``: a forbid cannot see which permit would have matched, so a forbid
  for one expired agreement would also block a live one covering the same flow. The
  compiler never emits a permit without the guard, and the tests check every compiled
  permit for it.
* Policy ids (``@id``) name the agreement, version, clause and term, so every decision
  can say which clause allowed it; base rules have ids starting ``base/``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from django.db import models

from accord.policy.vocabulary import (
    PROCEEDINGS_PURPOSES,
    DataCategory,
    PolicyAction,
    Purpose,
    SensitivityLabel,
    action_label,
    category_label,
    purpose_label,
)

NAMESPACE = "Accord"

SCHEMA = """
namespace Accord {
  entity Agency = { kind: String, suspended: Bool };
  entity Staff in [Agency] = {
    agency: Agency,
    roles: Set<String>,
    attributes: Set<String>,
  };
  entity Record = { owner: Agency, category: String, labels: Set<String> };
  entity Agreement = { reference: String, effective_on: Long, ends_on: Long };
  type Facts = {
    purpose: String,
    today: Long,
    screened: Bool,
    general_consent: Bool,
    part2_consent: Bool,
    proceedings_consent: Bool,
  };
  action view, notify, receive_copy appliesTo {
    principal: [Staff],
    resource: [Record],
    context: Facts,
  };
}
"""


class ConsentRequirement(models.TextChoices):
    """Which client consent a sharing term needs before data flows under it."""

    NONE = "none", "No consent needed"
    CLIENT = "client", "Client consent"
    PART2 = "part2", "42 CFR Part 2 consent"


class Effect(models.TextChoices):
    PERMIT = "permit", "Allowed by"
    FORBID = "forbid", "Denied by"
    DEFAULT = "default", "Denied (no term allows it)"


@dataclass(frozen=True)
class PolicyInfo:
    """What a policy id means, in the words shown to people."""

    policy_id: str
    effect: str
    words: str
    agreement_id: int | None = None
    version_id: int | None = None
    term_id: int | None = None
    reference: str = ""
    clause: str = ""


def cedar_string(value: str) -> str:
    """A Cedar string literal. Cedar escapes like Rust (``\\u{..}``), not like JSON."""
    out = []
    for char in value:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif ord(char) < 32 or ord(char) == 127:
            out.append(f"\\u{{{ord(char):x}}}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def uid(kind: str, ident: object) -> str:
    return f"{NAMESPACE}::{kind}::{cedar_string(str(ident))}"


def string_set(values: Iterable[str]) -> str:
    return "[" + ", ".join(cedar_string(v) for v in sorted(set(values))) + "]"


def day_number(day: date) -> int:
    """Dates as ``yyyymmdd`` Longs: ordered like the dates, readable in policy text."""
    return day.year * 10000 + day.month * 100 + day.day


FOREVER = 99991231


def in_vocabulary_order(codes: Iterable[str], vocabulary: type[models.TextChoices]) -> list[str]:
    """Codes in the order their vocabulary lists them (how people expect to read them)."""
    order = {code: index for index, code in enumerate(vocabulary.values)}
    return sorted(set(codes), key=lambda c: (order.get(c, len(order)), c))


# --- base policies ----------------------------------------------------------------------------

_CROSS = "principal.agency != resource.owner"
_PROCEEDINGS = string_set(PROCEEDINGS_PURPOSES)


@dataclass(frozen=True)
class BasePolicy:
    policy_id: str
    effect: str
    words: str
    condition: str


BASE_POLICIES: tuple[BasePolicy, ...] = (
    BasePolicy(
        "base/own-agency",
        Effect.PERMIT,
        "an agency's own staff may use its own records",
        "principal.agency == resource.owner",
    ),
    BasePolicy(
        "base/privileged",
        Effect.FORBID,
        "privileged and work-product material never leaves its agency "
        "(attorney-client privilege; work-product doctrine)",
        f'{_CROSS} && (resource.labels.contains("{SensitivityLabel.PRIVILEGED}") || '
        'resource.category == "privileged_work_product")',
    ),
    BasePolicy(
        "base/part2-consent",
        Effect.FORBID,
        "42 CFR Part 2 records leave the program only with the client's active Part 2 consent "
        "naming this recipient, this information and this purpose (42 CFR 2.31, 2.33)",
        f'{_CROSS} && resource.labels.contains("{SensitivityLabel.PART2}") && '
        f"!{_PROCEEDINGS}.contains(context.purpose) && !context.part2_consent",
    ),
    BasePolicy(
        "base/part2-proceedings",
        Effect.FORBID,
        "42 CFR Part 2 records are used in proceedings against the client only with a "
        "consent of that kind alone (42 CFR 2.31, 2.12(d)) or a court order",
        f'{_CROSS} && resource.labels.contains("{SensitivityLabel.PART2}") && '
        f"{_PROCEEDINGS}.contains(context.purpose) && !context.proceedings_consent",
    ),
    BasePolicy(
        "base/sealed",
        Effect.FORBID,
        "sealed records are not shared outside the agency that holds them",
        f'{_CROSS} && resource.labels.contains("{SensitivityLabel.SEALED}")',
    ),
    BasePolicy(
        "base/no-redisclosure",
        Effect.FORBID,
        "information received under a term that forbids redisclosure is not passed on",
        f'{_CROSS} && resource.labels.contains("{SensitivityLabel.NO_REDISCLOSURE}")',
    ),
    BasePolicy(
        "base/ethical-screen",
        Effect.FORBID,
        "an ethical screen walls this staff member off from this client",
        "context.screened",
    ),
    BasePolicy(
        "base/suspended-agency",
        Effect.FORBID,
        "a suspended agency receives nothing under any agreement",
        f"{_CROSS} && principal.agency.suspended",
    ),
)

BASE_INFO: dict[str, PolicyInfo] = {
    p.policy_id: PolicyInfo(p.policy_id, p.effect, p.words) for p in BASE_POLICIES
}


def base_policy_text() -> str:
    parts = []
    for policy in BASE_POLICIES:
        parts.append(
            f"@id({cedar_string(policy.policy_id)})\n"
            f"{policy.effect} (principal, action, resource)\n"
            f"when {{ {policy.condition} }};"
        )
    return "\n\n".join(parts) + "\n"


# --- agreements -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementWindow:
    """When one signed agreement version is in force (both ends inclusive)."""

    version_id: int
    agreement_id: int
    reference: str
    effective_on: date
    ends_on: date | None

    def entity(self) -> dict[str, object]:
        return {
            "uid": {"type": f"{NAMESPACE}::Agreement", "id": str(self.version_id)},
            "attrs": {
                "reference": self.reference,
                "effective_on": day_number(self.effective_on),
                "ends_on": day_number(self.ends_on) if self.ends_on else FOREVER,
            },
            "parents": [],
        }

    def in_force_on(self, day: date) -> bool:
        return self.effective_on <= day and (self.ends_on is None or day <= self.ends_on)


@dataclass(frozen=True)
class TermSpec:
    """One sharing term, as the compiler needs it (built from agreements.SharingTerm)."""

    term_id: int
    agreement_id: int
    version_id: int
    reference: str
    version_number: int
    clause: str
    discloser_id: int
    discloser_name: str
    recipient_id: int
    recipient_name: str
    categories: tuple[str, ...]
    purposes: tuple[str, ...]
    actions: tuple[str, ...]
    consent: str = ConsentRequirement.NONE
    recipient_role: str = ""
    recipient_attributes: tuple[str, ...] = ()
    redisclosure_allowed: bool = False
    retention_days: int | None = None

    @property
    def policy_id(self) -> str:
        return (
            f"agreement/{self.reference}/v{self.version_number}/§{self.clause}/term-{self.term_id}"
        )

    @property
    def covers_juvenile(self) -> bool:
        return "juvenile" in self.categories

    def words(self) -> str:
        """ "MOU 2026-04 §3.2: Jail → Defender, custody events, for defense representation"."""
        categories = ", ".join(
            category_label(c).lower() for c in in_vocabulary_order(self.categories, DataCategory)
        )
        purposes = " or ".join(
            purpose_label(p).lower() for p in in_vocabulary_order(self.purposes, Purpose)
        )
        actions = ", ".join(
            action_label(a).lower() for a in in_vocabulary_order(self.actions, PolicyAction)
        )
        who = self.recipient_name
        if self.recipient_role:
            who += f" ({self.recipient_role.replace('_', ' ')}s)"
        text = (
            f"{self.reference} §{self.clause}: {self.discloser_name} → {who}, {categories}, "
            f"for {purposes} ({actions})"
        )
        if self.recipient_attributes:
            text += "; recipients must have: " + ", ".join(
                a.replace("_", " ") for a in self.recipient_attributes
            )
        if self.consent == ConsentRequirement.CLIENT:
            text += "; with the client's consent"
        elif self.consent == ConsentRequirement.PART2:
            text += "; with the client's 42 CFR Part 2 consent"
        return text

    def info(self) -> PolicyInfo:
        return PolicyInfo(
            self.policy_id,
            Effect.PERMIT,
            self.words(),
            agreement_id=self.agreement_id,
            version_id=self.version_id,
            term_id=self.term_id,
            reference=self.reference,
            clause=self.clause,
        )


IN_FORCE_GUARD = "{agreement}.effective_on <= context.today && context.today <= {agreement}.ends_on"


def compile_term(term: TermSpec) -> str:
    """The one Cedar ``permit`` a sharing term stands for (always with its in-force guard)."""
    agreement = uid("Agreement", term.version_id)
    actions = ", ".join(uid("Action", a) for a in sorted(set(term.actions)))
    conditions = [
        f"resource.owner == {uid('Agency', term.discloser_id)}",
        f"{string_set(term.categories)}.contains(resource.category)",
        f"{string_set(term.purposes)}.contains(context.purpose)",
        IN_FORCE_GUARD.format(agreement=agreement),
    ]
    if term.recipient_role:
        conditions.append(f"principal.roles.contains({cedar_string(term.recipient_role)})")
    if term.recipient_attributes:
        conditions.append(
            f"principal.attributes.containsAll({string_set(term.recipient_attributes)})"
        )
    if term.consent == ConsentRequirement.CLIENT:
        # A Part 2 consent is a written client consent that meets the stricter standard;
        # a proceedings consent never stands in for any other (42 CFR 2.31).
        conditions.append("(context.general_consent || context.part2_consent)")
    elif term.consent == ConsentRequirement.PART2:
        conditions.append("(context.part2_consent || context.proceedings_consent)")
    if not term.covers_juvenile:
        conditions.append(f'!resource.labels.contains("{SensitivityLabel.JUVENILE}")')
    body = " &&\n  ".join(conditions)
    return (
        f"@id({cedar_string(term.policy_id)})\n"
        f"permit (\n  principal in {uid('Agency', term.recipient_id)},\n"
        f"  action in [{actions}],\n  resource\n)\nwhen {{\n  {body}\n}};"
    )


def compile_policy_set(terms: Sequence[TermSpec]) -> str:
    """Base policies first, then one permit per term, in a stable order."""
    compiled = [compile_term(t) for t in sorted(terms, key=lambda t: t.term_id)]
    return base_policy_text() + ("\n" + "\n\n".join(compiled) + "\n" if compiled else "")
