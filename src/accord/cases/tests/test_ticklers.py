"""Ticklers: rules kept as data, set off by the actions that record their trigger."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accord.audit.models import AuditEvent
from accord.cases import actions
from accord.cases.models import Tickler, TicklerRule
from accord.cases.tests.conftest import actor, new_client, open_case_for
from accord.core.actors import SYSTEM
from accord.core.errors import ActionRefused, InvalidInput, PermissionDenied

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules(office):
    assert actions.add_standard_rules(office.agencies["defender"], actor=SYSTEM) == 5
    return office


def test_a_conviction_sets_the_appeal_deadline(rules, case):
    charge = case.charges.get()
    when = timezone.localdate() - timedelta(days=1)
    actions.update_charge(
        charge,
        actor=actor(rules.defender_attorney),
        disposition="convicted_plea",
        disposition_on=when,
    )
    tickler = Tickler.objects.get(case=case, source=f"charge:{charge.pk}")
    assert tickler.due_on == when + timedelta(days=30)
    assert "appeal" in tickler.label
    # Recording the same disposition again sets nothing off twice.
    actions.update_charge(charge, actor=actor(rules.defender_attorney), degree="Class 1")
    assert Tickler.objects.filter(source=f"charge:{charge.pk}").count() == 1


def test_a_held_arraignment_sets_the_discovery_deadline(rules, case):
    at = timezone.now() - timedelta(days=2)
    event = actions.schedule_event(
        case, actor=actor(rules.defender_attorney), kind="arraignment", starts_at=at, courtroom="2A"
    )
    assert not Tickler.objects.filter(source=f"event:{event.pk}").exists()
    actions.record_event_outcome(
        event, actor=actor(rules.defender_attorney), status="held", result="Pleaded not guilty"
    )
    tickler = Tickler.objects.get(source=f"event:{event.pk}")
    assert tickler.due_on == timezone.localtime(at).date() + timedelta(days=14)


def test_a_trial_date_counts_back_and_moves_with_the_trial(rules, case):
    at = timezone.now() + timedelta(days=60)
    trial = actions.schedule_event(
        case, actor=actor(rules.defender_attorney), kind="trial", starts_at=at
    )
    tickler = Tickler.objects.get(source=f"event:{trial.pk}")
    assert tickler.due_on == timezone.localtime(at).date() - timedelta(days=14)
    later = at + timedelta(days=7)
    actions.update_event(trial, actor=actor(rules.defender_attorney), starts_at=later)
    tickler.refresh_from_db()
    assert tickler.due_on == timezone.localtime(later).date() - timedelta(days=14)
    # Continued: the old deadline is dismissed and the new setting sets its own.
    actions.record_event_outcome(
        trial,
        actor=actor(rules.defender_attorney),
        status="continued",
        continued_to=later + timedelta(days=30),
    )
    tickler.refresh_from_db()
    assert tickler.status == "dismissed"
    trial.refresh_from_db()
    assert Tickler.objects.get(source=f"event:{trial.continued_to_id}").status == "open"


def test_opening_a_case_and_custody_set_their_ticklers(rules):
    client = new_client(rules)
    case = open_case_for(rules, client)
    assert Tickler.objects.filter(case=case, source=f"case:{case.pk}").count() == 1
    actions.record_custody(
        client,
        actor=actor(rules.defender_attorney),
        in_custody_since=timezone.localdate(),
        facility="Jail",
    )
    assert Tickler.objects.filter(case=case, source__startswith="custody:").count() == 1


def test_completing_and_dismissing_are_the_teams_and_audited(rules, case):
    tickler = actions.add_tickler(
        case, actor=actor(rules.defender_attorney), label="Call DA", due_on=timezone.localdate()
    )
    with pytest.raises(PermissionDenied):
        actions.complete_tickler(tickler, actor=actor(rules.other_attorney))
    with pytest.raises(InvalidInput):
        actions.dismiss_tickler(tickler, actor=actor(rules.defender_attorney), note="")
    actions.complete_tickler(tickler, actor=actor(rules.defender_attorney), note="Done")
    with pytest.raises(ActionRefused):
        actions.complete_tickler(tickler, actor=actor(rules.defender_attorney))
    assert AuditEvent.objects.filter(
        action="cases.tickler_completed", object_id=str(tickler.pk)
    ).exists()


def test_rules_are_the_supervisors_and_validated(rules):
    defender = rules.agencies["defender"]
    with pytest.raises(PermissionDenied):
        actions.save_tickler_rule(
            defender,
            actor=actor(rules.defender_attorney),
            trigger="case_opened",
            offset_days=1,
            label="x",
        )
    with pytest.raises(InvalidInput) as refused:
        actions.save_tickler_rule(
            defender,
            actor=actor(rules.defender_supervisor),
            trigger="event_held",
            value="picnic",
            offset_days=99999,
            label="",
        )
    assert {e["field"] for e in refused.value.errors} == {"value", "offset_days", "label"}
    rule = actions.save_tickler_rule(
        defender,
        actor=actor(rules.defender_admin),
        trigger="event_held",
        value="sentencing",
        offset_days=10,
        label="Motion to reconsider sentence",
    )
    actions.save_tickler_rule(
        defender,
        actor=actor(rules.defender_admin),
        rule=rule,
        trigger="event_held",
        value="sentencing",
        offset_days=10,
        label="Motion to reconsider sentence",
        active=False,
    )
    assert TicklerRule.objects.get(pk=rule.pk).active is False
