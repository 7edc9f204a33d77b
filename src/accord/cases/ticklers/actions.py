"""Tickler rules (the office's, as data) and the ticklers they set off on cases.

:func:`fire` is called by the actions that record a trigger (a disposition, a held
arraignment…), inside their transaction, so a deadline exists exactly when its cause does.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from accord.audit.chain import append as audit
from accord.audit.codes import AuditAction
from accord.cases.access import manages_rules_of
from accord.cases.guards import require_change
from accord.cases.models import (
    DISPOSITION_GROUPS,
    VALUED_TRIGGERS,
    Case,
    ChargeDisposition,
    EventKind,
    Tickler,
    TicklerRule,
    TicklerStatus,
    Trigger,
)
from accord.cases.validation import Errors, choice, day, fail, text, whole
from accord.core.actions import action
from accord.core.actors import Actor
from accord.core.errors import ActionRefused, PermissionDenied
from accord.directory.models import Agency

MAX_OFFSET_DAYS = 3650

# The rules an office starts from (``add_standard_rules``); each office edits them to its
# own court rules. Labels say which rule to check: deadlines differ between states.
STANDARD_RULES: tuple[tuple[str, str, int, str], ...] = (
    (
        Trigger.CHARGE_DISPOSED,
        "convicted",
        30,
        "Notice of appeal due 30 days after conviction (check your state's appellate rule)",
    ),
    (
        Trigger.EVENT_HELD,
        EventKind.ARRAIGNMENT,
        14,
        "Discovery request due 14 days after arraignment (check your local rule)",
    ),
    (Trigger.CASE_OPENED, "", 3, "First client interview within 3 days of appointment"),
    (Trigger.CUSTODY_BEGAN, "", 2, "Visit the client in custody within 2 days"),
    (
        Trigger.EVENT_SCHEDULED,
        EventKind.TRIAL,
        -14,
        "Witness list and motions in limine 14 days before trial",
    ),
)


def trigger_values(trigger: str) -> list[str]:
    """The values a rule of ``trigger`` may name."""
    if trigger == Trigger.CHARGE_DISPOSED:
        return sorted(DISPOSITION_GROUPS) + [
            v for v in ChargeDisposition.values if v != ChargeDisposition.PENDING
        ]
    if trigger in (Trigger.EVENT_SCHEDULED, Trigger.EVENT_HELD):
        return list(EventKind.values)
    return []


def _clean_rule(values: dict[str, object]) -> tuple[dict[str, object], Errors]:
    errors: Errors = []
    trigger = choice(values.get("trigger"), "trigger", Trigger.values, errors)
    value = str(values.get("value") or "").strip()
    if trigger in VALUED_TRIGGERS:
        value = choice(value, "value", trigger_values(trigger), errors)
    elif trigger and value:
        errors.append({"field": "value", "reason": "this trigger takes no value"})
    offset = whole(
        values.get("offset_days"),
        "offset_days",
        errors,
        low=-MAX_OFFSET_DAYS,
        high=MAX_OFFSET_DAYS,
    )
    label = text(values.get("label"), "label", 200, errors, required=True)
    return {"trigger": trigger, "value": value, "offset_days": offset, "label": label}, errors


@action
def save_tickler_rule(
    agency: Agency,
    *,
    actor: Actor,
    trigger: str,
    offset_days: int,
    label: str,
    value: str = "",
    active: bool = True,
    rule: TicklerRule | None = None,
) -> TicklerRule:
    """Create or change one of the office's tickler rules (supervisors and administrators).
    A changed rule applies to triggers recorded from now on."""
    if not actor.is_system and manages_rules_of(actor) != agency.pk:
        raise PermissionDenied("Only the office's supervisors and administrators set rules.")
    if rule is not None and rule.agency_id != agency.pk:
        raise PermissionDenied("This rule belongs to another office.")
    cleaned, errors = _clean_rule(
        {"trigger": trigger, "value": value, "offset_days": offset_days, "label": label}
    )
    fail("The rule is not valid.", errors)
    clash = TicklerRule.objects.filter(
        agency=agency, trigger=cleaned["trigger"], value=cleaned["value"], label=cleaned["label"]
    )
    if rule is not None:
        clash = clash.exclude(pk=rule.pk)
    if clash.exists():
        fail(
            "The office has this rule already.",
            [{"field": "label", "reason": "the office has a rule with this trigger and label"}],
        )
    created = rule is None
    target = rule if rule is not None else TicklerRule(agency=agency)
    for name, new in cleaned.items():
        setattr(target, name, new)
    target.active = bool(active)
    target.save()
    audit(
        actor,
        AuditAction.TICKLER_RULE_SAVED,
        obj=target,
        agency_id=agency.pk,
        details={**cleaned, "active": target.active, "created": created},
    )
    return target


@action
def add_standard_rules(agency: Agency, *, actor: Actor) -> int:
    """Give the office the standard rules it does not have yet (see ``STANDARD_RULES``)."""
    added = 0
    for trigger, value, offset, label in STANDARD_RULES:
        if not TicklerRule.objects.filter(
            agency=agency, trigger=trigger, value=value, label=label
        ).exists():
            save_tickler_rule(
                agency, actor=actor, trigger=trigger, value=value, offset_days=offset, label=label
            )
            added += 1
    return added


def _matching_values(trigger: str, value: str) -> list[str]:
    if trigger == Trigger.CHARGE_DISPOSED:
        return [
            value,
            *(group for group, members in DISPOSITION_GROUPS.items() if value in members),
        ]
    return [value]


def matching_rules(rules: list[TicklerRule], trigger: str, value: str = "") -> list[TicklerRule]:
    """Of an office's active ``rules``, those ``trigger`` with ``value`` sets off."""
    values = set(_matching_values(trigger, value))
    return [r for r in rules if r.active and r.trigger == trigger and r.value in values]


def fire(
    case: Case, trigger: str, *, actor: Actor, base: date, source: str, value: str = ""
) -> list[Tickler]:
    """Set off the office's active rules for ``trigger`` on ``case``: one tickler per rule
    and source, due ``offset_days`` from ``base``. Called inside an action."""
    rules = matching_rules(
        list(TicklerRule.objects.filter(agency_id=case.agency_id, trigger=trigger, active=True)),
        trigger,
        value,
    )
    if not rules:
        return []
    existing = set(
        Tickler.objects.filter(case=case, source=source, rule__in=rules).values_list(
            "rule_id", flat=True
        )
    )
    created = [
        Tickler.objects.create(
            case=case,
            rule=rule,
            source=source,
            label=rule.label,
            due_on=base + timedelta(days=rule.offset_days),
        )
        for rule in rules
        if rule.pk not in existing
    ]
    if created:
        audit(
            actor,
            AuditAction.TICKLERS_CREATED,
            obj=case,
            agency_id=case.agency_id,
            details={
                "trigger": trigger,
                "value": value,
                "source": source,
                "ticklers": [t.pk for t in created],
            },
        )
    return created


def move(case: Case, source: str, base: date) -> int:
    """A rescheduled event moves the open ticklers it set off when scheduled."""
    moved = 0
    for tickler in Tickler.objects.filter(
        case=case, source=source, status=TicklerStatus.OPEN, rule__trigger=Trigger.EVENT_SCHEDULED
    ).select_related("rule"):
        assert tickler.rule is not None  # filtered on the rule's trigger
        due = base + timedelta(days=tickler.rule.offset_days)
        if tickler.due_on != due:
            tickler.due_on = due
            tickler.save(update_fields=["due_on"])
            moved += 1
    return moved


def dismiss_from(case: Case, source: str, note: str, *, actor: Actor) -> int:
    """Dismiss the open ticklers a cancelled or continued event set off when scheduled."""
    rows = list(
        Tickler.objects.filter(
            case=case,
            source=source,
            status=TicklerStatus.OPEN,
            rule__trigger=Trigger.EVENT_SCHEDULED,
        )
    )
    for tickler in rows:
        _close(tickler, TicklerStatus.DISMISSED, note, actor)
    return len(rows)


def _close(tickler: Tickler, status: str, note: str, actor: Actor) -> None:
    tickler.status = status
    tickler.closed_at = timezone.now()
    tickler.closed_by = actor.label[:150]
    tickler.close_note = note[:500]
    tickler.save(update_fields=["status", "closed_at", "closed_by", "close_note"])
    audit(
        actor,
        AuditAction.TICKLER_COMPLETED
        if status == TicklerStatus.COMPLETED
        else AuditAction.TICKLER_DISMISSED,
        obj=tickler,
        agency_id=tickler.case.agency_id,
        details={"case": tickler.case_id, "due_on": tickler.due_on.isoformat()},
    )


def _require_open(tickler: Tickler, actor: Actor) -> Tickler:
    locked: Tickler = Tickler.objects.select_for_update().select_related("case").get(pk=tickler.pk)
    require_change(locked.case, actor)
    if locked.status != TicklerStatus.OPEN:
        raise ActionRefused("This tickler is already closed.")
    return locked


@action
def complete_tickler(tickler: Tickler, *, actor: Actor, note: str = "") -> Tickler:
    """Mark a deadline met (the case's team or a supervisor)."""
    locked = _require_open(tickler, actor)
    errors: Errors = []
    cleaned = text(note, "note", 500, errors)
    fail("The note is not valid.", errors)
    _close(locked, TicklerStatus.COMPLETED, cleaned, actor)
    return locked


@action
def dismiss_tickler(tickler: Tickler, *, actor: Actor, note: str) -> Tickler:
    """Set a deadline aside as not applying, saying why."""
    locked = _require_open(tickler, actor)
    errors: Errors = []
    cleaned = text(note, "note", 500, errors, required=True)
    fail("Say why the tickler is dismissed.", errors)
    _close(locked, TicklerStatus.DISMISSED, cleaned, actor)
    return locked


@action
def add_tickler(case: Case, *, actor: Actor, label: str, due_on: date | str) -> Tickler:
    """A deadline written by hand on a case."""
    require_change(case, actor)
    errors: Errors = []
    cleaned = text(label, "label", 200, errors, required=True)
    due = day(due_on, "due_on", errors, required=True)
    fail("The tickler is not valid.", errors)
    assert due is not None  # for the type checker: checked above
    tickler = Tickler.objects.create(case=case, source="hand", label=cleaned, due_on=due)
    audit(
        actor,
        AuditAction.TICKLERS_CREATED,
        obj=case,
        agency_id=case.agency_id,
        details={"source": "hand", "ticklers": [tickler.pk]},
    )
    return tickler
