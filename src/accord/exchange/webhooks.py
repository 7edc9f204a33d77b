"""Signed webhooks: what is sent, how it is signed, and how a receiver checks it.

Each POST carries the JSON body of one event (as ``GET /api/v1/events`` returns it) and:

- ``Accord-Delivery``: the delivery id; the same on every retry (deduplicate on it);
- ``Accord-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]``: HMAC-SHA256 with the
  endpoint's secret over ``"<t>.<body>"``; during a rotation a second ``v1`` is made with
  the previous secret;

A receiver recomputes the HMAC over the timestamp and the raw body, compares in constant
time, and rejects a timestamp more than ``REPLAY_WINDOW`` seconds from its clock (5
minutes), so a captured request cannot be replayed later (:func:`verify`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import urllib.request
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from accord.core import crypto

REPLAY_WINDOW = 300
TIMEOUT = 10


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def seal(secret: str, uid: str) -> bytes:
    return crypto.encrypt(secret.encode(), f"exchange.webhook:{uid}")


def unseal(blob: bytes, uid: str) -> str:
    return crypto.decrypt(bytes(blob), f"exchange.webhook:{uid}").decode()


def sign(secrets_: Sequence[str], timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    parts = [f"t={timestamp}"]
    parts += ["v1=" + hmac.new(s.encode(), message, hashlib.sha256).hexdigest() for s in secrets_]
    return ",".join(parts)


def verify(secret: str, header: str, body: bytes, now: int, window: int = REPLAY_WINDOW) -> bool:
    """What a receiver does: the timestamp is recent and one v1 signature matches."""
    fields = [p.partition("=") for p in header.split(",")]
    stamps = [v for k, _, v in fields if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs(now - timestamp) > window:
        return False
    expected = sign([secret], timestamp, body).split(",")[1].removeprefix("v1=")
    return any(hmac.compare_digest(expected, v) for k, _, v in fields if k == "v1")


def body_of(event: Any, basis: str) -> bytes:
    data = {
        "id": event.pk,
        "source_agency": event.source_agency.short_name,
        "event_type": event.event_type.code,
        "version": event.event_type.version,
        "occurred_at": event.occurred_at,
        "received_at": event.received_at,
        "case_reference": event.case_reference,
        "out_of_order": event.out_of_order,
        "payload": event.payload,
        "basis": basis,
    }
    return json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True).encode()


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST and return the status; any non-2xx answer raises (and is retried)."""
    if not url.startswith("https://") and not plain_http_allowed():
        raise ValueError("webhook addresses must use https")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
        return int(response.status)


def plain_http_allowed() -> bool:
    # Plain http only outside production (the demo and the tests post to localhost).
    return str(settings.MODE) in ("test", "demo")


def now_seconds(moment: datetime) -> int:
    return int(moment.timestamp())
