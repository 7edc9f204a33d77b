"""CJIS 5.5.5 session limits: 30 minutes idle, 12 hours at most; sessions a person or an
administrator ends are signed out at the next request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from accord.accounts.actions import SESSION_AUTH_AT
from accord.accounts.models import UserSession
from accord.accounts.tests.helpers import SECURITY, SIGN_IN, mark_reauthenticated, text
from accord.audit.models import AuditEvent
from accord.core.testing import as_

pytestmark = pytest.mark.django_db


def _record(client) -> UserSession:
    return UserSession.objects.get(session_key=client.session.session_key)


def test_it_ends_a_session_after_thirty_idle_minutes(county):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST
    client = as_(county.defender_attorney)
    assert client.get("/").status_code == 200
    key = client.session.session_key
    # Every request pushes the expiry 30 minutes ahead.
    expiry = Session.objects.get(session_key=key).expire_date
    assert timedelta(minutes=29) < expiry - timezone.now() <= timedelta(minutes=30)
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(SIGN_IN)


def test_it_no_longer_lists_a_session_idle_past_the_limit(county):
    from accord.core.actions import action
    from accord.core.actors import SYSTEM

    idle = as_(county.defender_attorney)
    active = as_(county.defender_attorney)
    record = _record(idle)

    @action
    def _idle_since(minutes: int, *, actor):
        record.last_seen_at = timezone.now() - timedelta(minutes=minutes)
        record.save(update_fields=["last_seen_at"])

    _idle_since(45, actor=SYSTEM)
    listed = active.get(SECURITY).context["sessions"]
    assert [s.pk for s in listed] == [_record(active).pk]


def test_it_signs_out_twelve_hours_after_sign_in_however_active(county):
    client = as_(county.defender_attorney)
    session = client.session
    session[SESSION_AUTH_AT] = (timezone.now() - timedelta(hours=12, seconds=1)).timestamp()
    session.save()
    record = _record(client)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(SIGN_IN)
    record.refresh_from_db()
    assert record.ended_at is not None
    assert record.end_reason == "absolute_limit"
    assert AuditEvent.objects.filter(action="auth.session_expired").exists()


def test_it_keeps_a_session_just_inside_twelve_hours(county):
    client = as_(county.defender_attorney)
    session = client.session
    session[SESSION_AUTH_AT] = (timezone.now() - timedelta(hours=11, minutes=59)).timestamp()
    session.save()
    assert client.get("/").status_code == 200


def test_it_lists_my_sessions_and_marks_this_one(county):
    laptop = as_(county.defender_attorney)
    as_(county.defender_attorney)  # a second browser
    as_(county.jail_officer)  # someone else's session is never listed
    response = laptop.get(SECURITY)
    assert response.status_code == 200
    sessions = response.context["sessions"]
    assert len(sessions) == 2
    assert {s.user_id for s in sessions} == {county.defender_attorney.pk}
    assert text(response).count("This session") == 1


def test_it_signs_out_a_session_ended_from_another_browser(county):
    laptop = as_(county.defender_attorney)
    phone = as_(county.defender_attorney)
    phone_record = _record(phone)
    response = laptop.post(f"/accounts/sessions/{phone_record.pk}/end/")
    assert response["Location"] == SECURITY
    phone_record.refresh_from_db()
    assert phone_record.end_reason == "ended_by_user"
    after = phone.get("/")
    assert after.status_code == 302
    assert after["Location"].startswith(SIGN_IN)
    assert laptop.get("/").status_code == 200


def test_it_signs_out_when_ending_this_very_session(county):
    client = as_(county.defender_attorney)
    response = client.post(f"/accounts/sessions/{_record(client).pk}/end/")
    assert response["Location"] == SIGN_IN
    assert client.get("/").status_code == 302


def test_it_never_ends_someone_elses_session(county):
    mine = as_(county.defender_attorney)
    theirs = as_(county.jail_officer)
    record = _record(theirs)
    assert mine.post(f"/accounts/sessions/{record.pk}/end/").status_code == 404
    assert theirs.get("/").status_code == 200


def test_it_signs_out_every_client_of_a_disabled_account_at_once(county):
    attorney = as_(county.defender_attorney)
    assert attorney.get("/").status_code == 200
    admin = as_(county.defender_admin)
    mark_reauthenticated(admin)
    response = admin.post(f"/accounts/users/{county.defender_attorney.pk}/disable/")
    assert response.status_code == 302
    after = attorney.get("/")
    assert after.status_code == 302
    assert after["Location"].startswith(SIGN_IN)
    assert not UserSession.objects.filter(user=county.defender_attorney).live().exists()
    ended = UserSession.objects.get(user=county.defender_attorney)
    assert ended.end_reason == "account_disabled"
