"""The webhooks page: an agency administrator registers an endpoint (the secret shown once,
stored sealed), gives it a new secret (both sign for a day) and disables it; nobody else
reaches the page, and nobody reaches another agency's endpoints."""

from __future__ import annotations

from accord.core.testing import as_, check_matrix
from accord.exchange.models import WebhookEndpoint
from accord.exchange.webhooks import unseal


def test_only_agency_admins_reach_the_webhooks_page(county):
    check_matrix(
        county,
        "GET",
        "/exchange/webhooks",
        {None: 302, "defender_admin": 200, "jail_admin": 200, "defender_attorney": 403},
    )


def test_an_admin_registers_rotates_and_disables_an_endpoint(county):
    admin = as_(county.defender_admin)
    assert "No webhook endpoints yet" in admin.get("/exchange/webhooks").content.decode()

    refused = admin.post(
        "/exchange/webhooks", {"url": "ftp://pd.example/hook", "purpose": "defense_representation"}
    )
    assert refused.status_code == 422
    assert "https address" in refused.content.decode()
    assert not WebhookEndpoint.objects.exists()

    shown = admin.post(
        "/exchange/webhooks",
        {
            "url": "https://pd.example/hook",
            "purpose": "defense_representation",
            "event_types": ["custody.booked"],
        },
    ).content.decode()
    endpoint = WebhookEndpoint.objects.get()
    secret = unseal(bytes(endpoint.secret_sealed), str(endpoint.uid))
    assert secret in shown
    assert "shown only once" in shown
    assert (endpoint.agency_id, endpoint.event_types) == (county.defender.pk, ["custody.booked"])
    listing = admin.get("/exchange/webhooks").content.decode()
    assert "https://pd.example/hook" in listing
    assert secret not in listing

    assert (
        as_(county.jail_admin).post(f"/exchange/webhooks/{endpoint.pk}/rotate").status_code == 404
    )
    rotated = admin.post(f"/exchange/webhooks/{endpoint.pk}/rotate").content.decode()
    endpoint.refresh_from_db()
    new = unseal(bytes(endpoint.secret_sealed), str(endpoint.uid))
    old = unseal(bytes(endpoint.previous_secret_sealed or b""), str(endpoint.uid))
    assert new in rotated
    assert old == secret  # the previous secret keeps signing during the overlap
    assert "previous secret" in rotated

    assert (
        as_(county.jail_admin).post(f"/exchange/webhooks/{endpoint.pk}/disable").status_code == 404
    )
    assert admin.post(f"/exchange/webhooks/{endpoint.pk}/disable").status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is not None
    assert "Disabled" in admin.get("/exchange/webhooks").content.decode()
