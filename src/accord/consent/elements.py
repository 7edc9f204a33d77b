"""The required elements of a written consent, 42 CFR 2.31(a) (as amended in 2024), as a
checklist the consent actions run before a consent may be in force.

A Part 2 consent and a proceedings consent need every element; a general consent needs
the ones the decision point reads (who, what, to whom, why, until when, signed).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone

from accord.policy.vocabulary import PROCEEDINGS_PURPOSES, ConsentKind, DataCategory

# The statement of 42 CFR 2.31(a)(6) offered by default on the consent form.
DEFAULT_REVOCATION_STATEMENT = (
    "You may revoke this consent at any time, in writing to the program or to your "
    "attorney, except to the extent that action has already been taken in reliance on it."
)


@dataclass(frozen=True)
class ConsentTerms:
    """The values of a consent being checked (before it is saved)."""

    kind: str
    client_key: str
    client_name: str
    discloser_ids: Collection[int]
    discloser_kinds: Collection[str]
    information_description: str
    categories: Collection[str]
    recipient_ids: Collection[int]
    recipient_kinds: Collection[str]
    purposes: Collection[str]
    purpose_description: str
    revocation_statement: str
    expires_on: date | None
    expiry_event: str
    signer_name: str
    signer_capacity: str
    signature_method: str
    signed_at: datetime | None


@dataclass(frozen=True)
class Element:
    field: str
    citation: str
    words: str


ELEMENTS = {
    "client_name": Element("client_name", "42 CFR 2.31(a)(1)", "the name of the patient"),
    "disclosers": Element(
        "disclosers",
        "42 CFR 2.31(a)(2)",
        "who may use or disclose the records (named agencies or a class)",
    ),
    "information_description": Element(
        "information_description",
        "42 CFR 2.31(a)(3)",
        "a specific and meaningful description of the information",
    ),
    "categories": Element(
        "categories", "42 CFR 2.31(a)(3)", "the categories of information covered"
    ),
    "recipients": Element(
        "recipients", "42 CFR 2.31(a)(4)", "the recipients (named agencies or a class)"
    ),
    "purposes": Element("purposes", "42 CFR 2.31(a)(5)", "each purpose of the disclosure"),
    "purpose_description": Element(
        "purpose_description", "42 CFR 2.31(a)(5)", "a description of each purpose"
    ),
    "revocation_statement": Element(
        "revocation_statement",
        "42 CFR 2.31(a)(6)",
        "the patient's right to revoke the consent in writing and how to revoke it",
    ),
    "expiry": Element(
        "expires_on", "42 CFR 2.31(a)(7)", "an expiration date or an expiration event"
    ),
    "signer_name": Element(
        "signer_name", "42 CFR 2.31(a)(8)", "the signature of the patient or authorized person"
    ),
    "signer_capacity": Element(
        "signer_capacity",
        "42 CFR 2.31(a)(8), 2.14, 2.15",
        "in what capacity the signer signed (the client, a guardian, a representative)",
    ),
    "signature_method": Element(
        "signature_method", "42 CFR 2.31(a)(8)", "how the consent was signed"
    ),
    "signed_at": Element("signed_at", "42 CFR 2.31(a)(9)", "the date the consent was signed"),
}

# What a general (non-Part 2) consent needs to be in force.
GENERAL_ELEMENTS = (
    "client_name",
    "disclosers",
    "categories",
    "recipients",
    "purposes",
    "expiry",
    "signer_name",
    "signer_capacity",
    "signature_method",
    "signed_at",
)


def missing_elements(terms: ConsentTerms) -> list[Element]:
    """Every required element the consent lacks, in regulation order."""
    present = {
        "client_name": bool(terms.client_name.strip()),
        "disclosers": bool(terms.discloser_ids) or bool(terms.discloser_kinds),
        "information_description": bool(terms.information_description.strip()),
        "categories": bool(terms.categories),
        "recipients": bool(terms.recipient_ids) or bool(terms.recipient_kinds),
        "purposes": bool(terms.purposes),
        "purpose_description": bool(terms.purpose_description.strip()),
        "revocation_statement": bool(terms.revocation_statement.strip()),
        "expiry": terms.expires_on is not None or bool(terms.expiry_event.strip()),
        "signer_name": bool(terms.signer_name.strip()),
        "signer_capacity": bool(terms.signer_capacity),
        "signature_method": bool(terms.signature_method),
        "signed_at": terms.signed_at is not None,
    }
    needed = ELEMENTS.keys() if terms.kind != ConsentKind.GENERAL else GENERAL_ELEMENTS
    return [ELEMENTS[name] for name in ELEMENTS if name in needed and not present[name]]


def scope_problems(terms: ConsentTerms) -> list[dict[str, str]]:
    """Rules on what a consent may cover, whatever its completeness."""
    problems = []
    proceedings = set(terms.purposes) & PROCEEDINGS_PURPOSES
    if terms.kind == ConsentKind.PROCEEDINGS:
        others = sorted(set(terms.purposes) - PROCEEDINGS_PURPOSES)
        if others:
            problems.append(
                {
                    "field": "purposes",
                    "reason": "a consent for use in proceedings against the client cannot be "
                    "combined with any other purpose (42 CFR 2.31): remove " + ", ".join(others),
                }
            )
    elif proceedings:
        problems.append(
            {
                "field": "purposes",
                "reason": "use in proceedings against the client needs its own consent of the "
                "proceedings kind (42 CFR 2.31): remove " + ", ".join(sorted(proceedings)),
            }
        )
    if terms.kind == ConsentKind.PART2 and DataCategory.SUBSTANCE_USE_PART2 not in terms.categories:
        problems.append(
            {
                "field": "categories",
                "reason": "a Part 2 consent must describe the substance use disorder "
                "information it covers (42 CFR 2.31(a)(3)): include substance use (Part 2)",
            }
        )
    if terms.signed_at is not None and terms.signed_at > timezone.now():
        problems.append({"field": "signed_at", "reason": "cannot be in the future"})
    expires = terms.expires_on
    if terms.signed_at is not None and expires is not None:
        signed_on = timezone.localdate(terms.signed_at)
        if expires < signed_on:
            problems.append({"field": "expires_on", "reason": "is before the date signed"})
    return problems
