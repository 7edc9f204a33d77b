"""Signed webhooks: sent only under an agreement, signed with the endpoint's secret over the
timestamp and body, verifiable by the receiver, rotation, retries."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.utils import timezone

from accord.accounts.identity import actor_for_user
from accord.audit.models import AuditEvent
from accord.core.testing import as_, check_matrix
from accord.exchange import webhooks
from accord.exchange.actions import create_webhook, ingest_event, rotate_webhook_secret
from accord.exchange.models import DeliveryStatus, WebhookDelivery
from accord.exchange.tasks import send_webhook
from accord.exchange.testing import booking, jail_mou, minutes_ago


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []
    answer = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        self.send_response(Receiver.answer)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver():
    Receiver.received = []
    Receiver.answer = 200
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def _book(county, key="k-1"):
    return ingest_event(
        county.jail,
        "custody.booked",
        booking(booking_number=key),
        key,
        minutes_ago(5),
        actor=actor_for_user(county.jail_officer),
    ).event


def _endpoint(county, url):
    return create_webhook(
        county.defender,
        url,
        "defense_representation",
        ["custody.booked"],
        actor=actor_for_user(county.defender_admin),
    )


def test_it_posts_a_signed_event_the_receiver_can_verify(county, receiver):
    jail_mou(county)
    _, secret = _endpoint(county, receiver)
    event = _book(county)
    delivery = WebhookDelivery.objects.get()
    assert send_webhook(delivery.pk) == "delivered"
    headers, body = Receiver.received[0]
    assert json.loads(body)["id"] == event.pk
    assert headers["Accord-Delivery"] == str(delivery.pk)
    now = int(timezone.now().timestamp())
    assert webhooks.verify(secret, headers["Accord-Signature"], body, now)
    assert not webhooks.verify(secret, headers["Accord-Signature"], body + b" ", now)
    assert not webhooks.verify(secret, headers["Accord-Signature"], body, now + 301)
    assert not webhooks.verify("whsec_other", headers["Accord-Signature"], body, now)
    assert send_webhook(delivery.pk) == "nothing to do"
    assert len(Receiver.received) == 1


def test_it_signs_with_both_secrets_during_a_rotation(county, receiver):
    jail_mou(county)
    endpoint, old = _endpoint(county, receiver)
    new = rotate_webhook_secret(endpoint, actor=actor_for_user(county.defender_admin))
    _book(county)
    send_webhook(WebhookDelivery.objects.get().pk)
    headers, body = Receiver.received[0]
    now = int(timezone.now().timestamp())
    assert webhooks.verify(new, headers["Accord-Signature"], body, now)
    assert webhooks.verify(old, headers["Accord-Signature"], body, now)


def test_it_sends_nothing_without_an_agreement_and_audits_it(county, receiver):
    _endpoint(county, receiver)
    event = _book(county)
    assert WebhookDelivery.objects.count() == 0
    refusal = AuditEvent.objects.get(action="exchange.event_refused")
    assert refusal.object_id == str(event.pk)
    assert refusal.details["recipient_agency"] == county.defender.pk


def test_it_retries_a_failing_receiver(county, receiver):
    jail_mou(county)
    _endpoint(county, receiver)
    _book(county)
    Receiver.answer = 500
    delivery = WebhookDelivery.objects.get()
    assert send_webhook(delivery.pk) == "retrying"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING
    assert "500" in delivery.last_error


def test_it_lets_only_agency_admins_manage_webhooks(county):
    check_matrix(
        county,
        "GET",
        "/api/v1/exchange/webhooks",
        {None: 401, "defender_admin": 200, "defender_attorney": 403, "coordinator": 403},
    )
    created = as_(county.defender_admin).post(
        "/api/v1/exchange/webhooks",
        data=json.dumps({"url": "https://pd.example/hook", "purpose": "defense_representation"}),
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["secret"].startswith("whsec_")
    endpoint_id = created.json()["endpoint"]["id"]
    assert (
        as_(county.jail_admin).post(f"/api/v1/exchange/webhooks/{endpoint_id}/rotate").status_code
        == 404
    )
    rotated = as_(county.defender_admin).post(f"/api/v1/exchange/webhooks/{endpoint_id}/rotate")
    assert rotated.json()["secret"] != created.json()["secret"]


def test_it_shows_dead_webhook_deliveries_and_replays_them(county, receiver):
    from accord.core.actors import SYSTEM
    from accord.exchange.actions import webhook_attempted

    jail_mou(county)
    _endpoint(county, receiver)
    _book(county)
    delivery = WebhookDelivery.objects.get()
    for _ in range(6):
        webhook_attempted(delivery.pk, "HTTP Error 500", actor=SYSTEM)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD
    admin = as_(county.defender_admin)
    assert "HTTP Error 500" in admin.get("/exchange/dead-letters").content.decode()
    url = f"/exchange/dead-letters/webhooks/{delivery.pk}/replay"
    assert as_(county.jail_admin).post(url).status_code == 404
    assert admin.post(url).status_code == 302
    assert send_webhook(delivery.pk) == "delivered"
