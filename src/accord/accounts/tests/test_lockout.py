"""CJIS 5.5.3: five failed sign-ins within 15 minutes lock the account until an
administrator unlocks it, and the answers never tell whether an account exists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accord.accounts.actions import sign_in_with_password as sign_in_action
from accord.accounts.actions import unlock_account
from accord.accounts.identity import actor_for_user
from accord.accounts.models import SignInFailure, User, UserSession
from accord.accounts.tests.helpers import (
    LOCKED,
    REFUSED,
    SECOND_FACTOR,
    sign_in_through_pages,
    sign_in_with_password,
    text,
)
from accord.audit.models import AuditEvent
from accord.core.actions import action
from accord.core.actors import Actor
from accord.core.testing import PASSWORD

pytestmark = pytest.mark.django_db

IMMEDIATE_TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "QUEUES": ["default"],
    }
}


def _fail(client, username: str, times: int):
    return [sign_in_with_password(client, username, "not the password") for _ in range(times)]


@action
def _age_failures(username: str, minutes: int, *, actor: Actor) -> None:
    """Move the recorded failures back in time (as if they happened earlier)."""
    earlier = timezone.now() - timedelta(minutes=minutes)
    for failure in SignInFailure.objects.filter(username=username):
        failure.at = earlier
        failure.save(update_fields=["at"])


def test_it_locks_an_account_after_five_failures_in_fifteen_minutes(county, client):
    user = county.defender_attorney
    answers = _fail(client, user.username, 5)
    assert [LOCKED in text(a) for a in answers] == [False, False, False, False, True]
    assert all(REFUSED in text(a) for a in answers[:4])
    user.refresh_from_db()
    assert user.locked_at is not None
    assert not UserSession.objects.filter(user=user).exists()
    failed = AuditEvent.objects.filter(action="auth.sign_in_failed", object_id=str(user.pk))
    assert failed.count() == 5
    assert AuditEvent.objects.filter(action="auth.locked_out", object_id=str(user.pk)).count() == 1


def test_it_refuses_the_right_password_of_a_locked_account_with_the_lockout_message(county, client):
    user = county.defender_attorney
    _fail(client, user.username, 5)
    response = sign_in_with_password(client, user.username, PASSWORD)
    assert response.status_code == 200
    assert LOCKED in text(response)
    assert not client.session.get("_auth_user_id")


def test_it_lets_the_person_in_again_once_an_administrator_unlocks(county, client):
    user = county.defender_attorney
    _fail(client, user.username, 5)
    user.refresh_from_db()
    unlock_account(user, actor=actor_for_user(county.defender_admin))
    assert AuditEvent.objects.filter(action="auth.unlocked", object_id=str(user.pk)).exists()
    response = sign_in_through_pages(client, user)
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_it_forgets_failures_older_than_fifteen_minutes(county, client):
    user = county.defender_attorney
    _fail(client, user.username, 4)
    _age_failures(user.username, 16, actor=actor_for_user(None))
    answer = _fail(client, user.username, 1)[0]
    assert REFUSED in text(answer)
    user.refresh_from_db()
    assert not user.is_locked
    assert sign_in_with_password(client, user.username)["Location"] == SECOND_FACTOR


def test_it_answers_a_name_without_an_account_exactly_as_a_real_one(county, client):
    real = [text(a) for a in _fail(client, county.defender_attorney.username, 6)]
    ghost = [text(a) for a in _fail(client, "no.such.person", 6)]
    for real_page, ghost_page in zip(real, ghost, strict=True):
        assert (REFUSED in real_page) == (REFUSED in ghost_page)
        assert (LOCKED in real_page) == (LOCKED in ghost_page)
    assert LOCKED in ghost[-1]


def test_it_keeps_a_name_without_an_account_locked_after_the_window_too(county, client):
    _fail(client, "no.such.person", 5)
    _fail(client, county.defender_attorney.username, 5)
    _age_failures("no.such.person", 60, actor=actor_for_user(None))
    _age_failures(county.defender_attorney.username, 60, actor=actor_for_user(None))
    ghost = sign_in_with_password(client, "no.such.person", "anything at all")
    real = sign_in_with_password(client, county.defender_attorney.username, PASSWORD)
    assert LOCKED in text(ghost)
    assert LOCKED in text(real)


def test_it_counts_failures_of_the_second_factor_towards_the_lockout(county, client):
    user = county.defender_attorney
    _fail(client, user.username, 3)
    sign_in_with_password(client, user.username)
    client.post(SECOND_FACTOR, {"code": "000000"})
    response = client.post(SECOND_FACTOR, {"code": "000000"})
    assert LOCKED in text(response)
    assert User.objects.get(pk=user.pk).is_locked


def test_it_emails_the_agency_administrators_when_an_account_locks(
    county, client, settings, mailoutbox
):
    settings.TASKS = IMMEDIATE_TASKS
    user = county.defender_attorney
    _fail(client, user.username, 5)
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [county.defender_admin.email]
    assert user.username in message.subject
    assert f"Account {user.username}" in message.body
    assert "locked after 5 failed sign-ins at" in message.body
    assert f"http://testserver/accounts/users/{user.pk}/" in message.body
    # Further attempts on the locked account do not send it again.
    _fail(client, user.username, 2)
    assert len(mailoutbox) == 1


def test_it_tells_the_coordinators_when_the_agency_has_no_administrator(
    county, client, settings, mailoutbox
):
    settings.TASKS = IMMEDIATE_TASKS
    _fail(client, county.prosecutor.username, 5)
    assert [m.to for m in mailoutbox] == [[county.coordinator.email]]


def test_it_sends_no_email_for_a_name_without_an_account(client, county, settings, mailoutbox):
    settings.TASKS = IMMEDIATE_TASKS
    _fail(client, "no.such.person", 6)
    assert mailoutbox == []


def test_it_queues_the_email_with_the_lock_in_the_same_transaction(county, client):
    from django_tasks_db.models import DBTaskResult

    _fail(client, county.defender_attorney.username, 5)
    queued = DBTaskResult.objects.filter(task_path="accord.accounts.tasks.send_lockout_notice")
    assert queued.count() == 1
    assert queued.get().args_kwargs["kwargs"]["user_id"] == county.defender_attorney.pk


def test_the_action_reports_a_locked_state_for_unknown_names_too(county, rf):
    from django.contrib.sessions.backends.db import SessionStore

    from accord.accounts.actions import SignInResult

    results = []
    for _ in range(5):
        request = rf.post("/accounts/sign-in/")
        request.session = SessionStore()
        results.append(
            sign_in_action(request, "ghost", "wrong password", actor=actor_for_user(None))
        )
    assert results[-1] is SignInResult.LOCKED
