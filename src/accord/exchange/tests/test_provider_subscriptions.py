"""A service provider's case worker follows a client's court dates: told of a hearing only
under an active court→provider term for that purpose, and with the client's consent when
the term needs it; every refusal is audited."""

from __future__ import annotations

import pytest

from accord.accounts.identity import actor_for_user
from accord.audit.models import AuditEvent
from accord.consent.actions import revoke_consent
from accord.consent.testing import make_consent
from accord.core.access import Purpose
from accord.core.actors import SYSTEM
from accord.core.errors import NotFound, PermissionDenied
from accord.core.testing import as_
from accord.exchange.actions import ingest_event, subscribe
from accord.exchange.models import Notification, Subscription
from accord.exchange.routing import client_key_for
from accord.exchange.tasks import deliver
from accord.exchange.testing import (
    court_to_provider_mou,
    hearing,
    minutes_ago,
    provider_client,
    provider_subscribes,
)
from accord.policy.models import Disclosure


def _court_posts(county, key="h-1", code="court.hearing_scheduled", payload=None):
    return ingest_event(
        county.court,
        code,
        payload or hearing(),
        key,
        minutes_ago(5),
        actor=actor_for_user(county.court_clerk),
    ).event


def _consents(county, record, **extra):
    """The client's consent, recorded by the provider, to hear of their court dates."""
    master = record.link.master_id
    return make_consent(
        county.provider,
        kind="general",
        client_key=f"person-{master}",
        disclosers=[county.court],
        recipients=[county.provider],
        categories=["identity", "court_events"],
        purposes=[Purpose.TREATMENT],
        **extra,
    )


def _refusals(county):
    return AuditEvent.objects.filter(
        action="exchange.event_refused", details__recipient=county.provider_case_worker.pk
    )


@pytest.fixture
def client_followed(county):
    record = provider_client(county)
    provider_subscribes(county, record)
    return record


def test_it_tells_the_case_worker_of_a_hearing_with_the_clients_consent(county, client_followed):
    court_to_provider_mou(county)
    _consents(county, client_followed)
    event = _court_posts(county)
    note = Notification.objects.get(event=event)
    assert note.recipient_id == county.provider_case_worker.pk
    assert note.purpose == Purpose.TREATMENT
    assert "MOU-PRV-1" in note.explanation
    assert "5.1" in note.explanation
    disclosure = Disclosure.objects.get()
    assert (disclosure.discloser_id, disclosure.recipient_id) == (
        county.court.pk,
        county.provider.pk,
    )
    assert disclosure.consent_ids
    assert not _refusals(county).exists()


def test_the_consent_is_filed_under_the_key_routing_uses(county, client_followed):
    event = _court_posts(county)
    assert client_key_for(event, county.provider.pk) == f"person-{client_followed.link.master_id}"


def test_it_tells_nothing_without_the_clients_consent_and_audits_why(county, client_followed):
    court_to_provider_mou(county)
    event = _court_posts(county)
    assert not Notification.objects.exists()
    assert not Disclosure.objects.exists()
    refusal = _refusals(county).get()
    assert refusal.outcome == "denied"
    assert refusal.object_id == str(event.pk)
    assert refusal.details["purpose"] == Purpose.TREATMENT
    assert refusal.details["recipient_agency"] == county.provider.pk
    assert "court events" in refusal.details["reason"]


def test_it_stops_telling_once_the_consent_is_revoked(county, client_followed):
    court_to_provider_mou(county)
    consent = _consents(county, client_followed)
    _court_posts(county, key="h-1")
    assert Notification.objects.count() == 1
    revoke_consent(consent, actor=actor_for_user(county.provider_case_worker), method="in writing")
    continued = hearing()
    continued["continued_from"] = continued["hearing_at"]
    later = _court_posts(county, key="h-2", code="court.hearing_continued", payload=continued)
    assert not Notification.objects.filter(event=later).exists()
    assert _refusals(county).filter(object_id=str(later.pk)).exists()


def test_it_tells_nothing_without_an_agreement(county, client_followed):
    _consents(county, client_followed)
    _court_posts(county)
    assert not Notification.objects.exists()
    assert _refusals(county).count() == 1


def test_it_tells_nothing_for_a_purpose_the_term_does_not_name(county):
    record = provider_client(county)
    provider_subscribes(county, record, purpose=Purpose.SERVICES)
    court_to_provider_mou(county)
    _consents(county, record)
    _court_posts(county)
    assert not Notification.objects.exists()
    assert _refusals(county).count() == 1


def test_it_tells_only_the_hearing_types_subscribed_to(county, client_followed):
    court_to_provider_mou(county)
    _consents(county, client_followed)
    payload = hearing()
    payload["reason"] = "no courtroom"
    _court_posts(county, code="court.hearing_cancelled", payload=payload)
    assert not Notification.objects.exists()


def test_an_outsider_cannot_follow_the_providers_client(county):
    record = provider_client(county)
    with pytest.raises(NotFound):
        subscribe(actor=actor_for_user(county.outsider), person_record=record)
    with pytest.raises(PermissionDenied):
        subscribe(actor=actor_for_user(county.defender_auditor), case_reference="2026-CF-1")


def test_the_api_subscribes_the_case_worker_with_the_agencys_purpose(county):
    record = provider_client(county)
    worker = as_(county.provider_case_worker)
    answer = worker.post(
        "/api/v1/exchange/subscriptions",
        {"person_record": record.pk, "event_types": ["court.hearing_scheduled"]},
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["purpose"] == Purpose.TREATMENT
    assert body["event_types"] == ["court.hearing_scheduled"]
    assert body["person_id"] == record.link.master_id
    court_to_provider_mou(county)
    _consents(county, record)
    _court_posts(county)
    note = Notification.objects.get()
    assert deliver(note.pk) == "delivered"  # what the worker runs
    listed = worker.get("/api/v1/exchange/notifications").json()["results"]
    assert [(n["id"], n["event_type"]) for n in listed] == [(note.pk, "court.hearing_scheduled")]
    assert "MOU-PRV-1" in listed[0]["explanation"]


def test_the_api_refuses_another_agencys_record(county):
    record = provider_client(county)
    answer = as_(county.defender_attorney).post(
        "/api/v1/exchange/subscriptions",
        {"person_record": record.pk, "purpose": Purpose.DEFENSE},
        content_type="application/json",
    )
    assert answer.status_code == 404


def test_the_page_offers_the_providers_purposes_and_clients(county):
    record = provider_client(county)
    page = as_(county.provider_case_worker).get("/exchange/subscriptions")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="treatment" selected' in html
    assert 'value="social_services"' in html
    assert 'value="defense_representation"' not in html
    assert f'value="{record.pk}"' in html  # the picker lists the agency's own people
    assert "Avery, Jordan" in html
    assert "still decided by the agreement" in html
    assert "consent" in html


def test_the_page_subscribes_the_case_worker(county):
    record = provider_client(county)
    worker = as_(county.provider_case_worker)
    answer = worker.post(
        "/exchange/subscriptions",
        {
            "person_record": record.pk,
            "event_types": ["court.hearing_scheduled", "court.hearing_continued"],
            "purpose": Purpose.TREATMENT,
        },
    )
    assert answer.status_code == 302, answer.content.decode()
    sub = Subscription.objects.get()
    assert (sub.subscriber_id, sub.purpose) == (county.provider_case_worker.pk, Purpose.TREATMENT)
    assert sub.event_types == ["court.hearing_continued", "court.hearing_scheduled"]
    assert sub.master_id == record.link.master_id
    listing = worker.get("/exchange/subscriptions").content.decode()
    assert "Jordan Avery" in listing


def test_the_page_refuses_a_purpose_outside_the_agencys_kind(county):
    record = provider_client(county)
    refused = as_(county.provider_case_worker).post(
        "/exchange/subscriptions",
        {"person_record": record.pk, "purpose": Purpose.DEFENSE},
    )
    assert refused.status_code == 422
    assert not Subscription.objects.exists()


def test_the_subscription_stays_but_tells_nothing_after_the_agreement_ends(county, client_followed):
    agreement = court_to_provider_mou(county)
    _consents(county, client_followed)
    _court_posts(county, key="h-1")
    assert Notification.objects.count() == 1
    from accord.agreements.actions import terminate_agreement

    terminate_agreement(agreement, actor=SYSTEM, reason="the program closed")
    _court_posts(county, key="h-2", payload=hearing(case_reference="2026-CF-2"))
    assert Notification.objects.count() == 1
