"""The words agreements, consents and decisions share: data categories, sensitivity labels,
the actions a sharing term can allow, and the purposes of use.

Stable codes (Zulip's ``AuditLogEventType``): agreements, consents and disclosures store
these values, and compiled Cedar policies compare against them. Renaming one is a data
migration, never an edit.
"""

from __future__ import annotations

from django.db import models

from accord.core.access import Purpose

__all__ = [
    "CATEGORY_LABELS",
    "PROCEEDINGS_PURPOSES",
    "ConsentKind",
    "DataCategory",
    "PolicyAction",
    "Purpose",
    "SensitivityLabel",
    "effective_labels",
]


class DataCategory(models.TextChoices):
    """What kind of client information a record holds; sharing terms name these."""

    IDENTITY = "identity", "Identity"
    CONTACT = "contact", "Contact information"
    CUSTODY = "custody", "Custody events"
    COURT_EVENTS = "court_events", "Court events"
    CHARGES = "charges", "Charges"
    CRIMINAL_HISTORY = "criminal_history", "Criminal history"
    DISCOVERY = "discovery", "Discovery"
    CASE_STATUS = "case_status", "Case status"
    MENTAL_HEALTH = "mental_health", "Mental health"
    SUBSTANCE_USE_PART2 = "substance_use_part2", "Substance use (42 CFR Part 2)"
    MEDICAL = "medical", "Medical"
    HOUSING = "housing", "Housing"
    EMPLOYMENT = "employment", "Employment"
    BENEFITS = "benefits", "Benefits"
    EDUCATION = "education", "Education"
    IMMIGRATION = "immigration", "Immigration"
    JUVENILE = "juvenile", "Juvenile records"
    SEALED = "sealed", "Sealed records"
    VICTIM_WITNESS = "victim_witness", "Victim and witness information"
    PRIVILEGED = "privileged_work_product", "Privileged and work product"


class SensitivityLabel(models.TextChoices):
    """Labels a record carries whatever its category; base policies read them."""

    PRIVILEGED = "privileged", "Privileged or work product (never leaves its agency)"
    PART2 = "part2", "42 CFR Part 2 record (needs a Part 2 consent)"
    SEALED = "sealed", "Sealed by court order (not shared)"
    JUVENILE = "juvenile", "Juvenile record (only under terms that name juvenile records)"
    NO_REDISCLOSURE = "no_redisclosure", "Received under a term that forbids redisclosure"


class PolicyAction(models.TextChoices):
    """What a recipient may do with shared data; a term lists the ones it allows."""

    VIEW = "view", "View"
    NOTIFY = "notify", "Be notified"
    RECEIVE_COPY = "receive_copy", "Receive a copy"


class ConsentKind(models.TextChoices):
    """Kinds of client consent. A proceedings consent is its own kind: it is never combined
    with another and never satisfies another kind's check (42 CFR 2.31)."""

    GENERAL = "general", "General client consent"
    PART2 = "part2", "42 CFR Part 2 consent"
    PROCEEDINGS = "proceedings", "Consent to use in proceedings against the client"


# Categories that always carry a label, so a record filed under them cannot escape the
# base rule by omitting the label.
CATEGORY_LABELS: dict[str, str] = {
    DataCategory.PRIVILEGED: SensitivityLabel.PRIVILEGED,
    DataCategory.SUBSTANCE_USE_PART2: SensitivityLabel.PART2,
    DataCategory.SEALED: SensitivityLabel.SEALED,
    DataCategory.JUVENILE: SensitivityLabel.JUVENILE,
}

# Purposes that amount to use "in civil, criminal, administrative, or legislative
# proceedings against the patient" (42 CFR 2.31, 2.12(d)): Part 2 records reach them only
# with a consent of the proceedings kind, never with a treatment or general consent.
PROCEEDINGS_PURPOSES: frozenset[str] = frozenset({Purpose.PROSECUTION, Purpose.ADJUDICATION})


def effective_labels(
    category: str, labels: frozenset[str] | set[str] | tuple[str, ...]
) -> frozenset[str]:
    """The record's labels plus the one its category implies."""
    implied = CATEGORY_LABELS.get(category)
    result = frozenset(labels)
    return result | {implied} if implied else result


def category_label(code: str) -> str:
    try:
        return str(DataCategory(code).label)
    except ValueError:
        return code


def purpose_label(code: str) -> str:
    try:
        return str(Purpose(code).label)
    except ValueError:
        return code


def action_label(code: str) -> str:
    try:
        return str(PolicyAction(code).label)
    except ValueError:
        return code
