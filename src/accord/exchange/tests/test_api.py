"""The exchange API: posting (single, batch, retries), polling the feed, subscriptions,
notifications and dead letters, for each persona and token."""

from __future__ import annotations

import json

from accord.core.testing import as_, check_matrix, with_token
from accord.exchange.models import Event, Notification
from accord.exchange.tasks import deliver
from accord.exchange.testing import (
    attorney_subscribes,
    booking,
    defender_client,
    jail_mou,
    minutes_ago,
    token_for,
)


def _post(client, body, url="/api/v1/events"):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _event(key="k-1", **payload):
    return {
        "event_type": "custody.booked",
        "idempotency_key": key,
        "occurred_at": minutes_ago(3).isoformat(),
        "payload": booking(**payload),
    }


def test_it_accepts_an_event_with_a_token_and_returns_the_first_receipt_on_retry(county):
    client = with_token(token_for(county, "jail", ["events:write"]))
    first = _post(client, _event())
    assert first.status_code == 201, first.content
    again = _post(client, _event())
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["created"] is False
    assert Event.objects.count() == 1


def test_it_answers_422_naming_the_field(county):
    client = with_token(token_for(county, "jail", ["events:write"]))
    body = _event()
    del body["payload"]["facility"]
    response = _post(client, body)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "payload.facility", "reason": "required"}]


def test_it_refuses_tokens_without_the_scope_and_strangers(county):
    reader = with_token(token_for(county, "jail", ["events:read"]))
    assert _post(reader, _event()).status_code == 403
    assert _post(as_(None), _event()).status_code == 401
    check_matrix(
        county,
        "POST",
        "/api/v1/events",
        {None: 401, "jail_officer": 201, "defender_auditor": 403, "coordinator": 403},
        data=_event("matrix"),
    )


def test_it_takes_a_batch_accepting_the_good_and_reporting_the_bad(county):
    client = with_token(token_for(county, "jail", ["events:write"]))
    bad = _event("k-2")
    bad["payload"]["subject"].pop("last_name")
    response = _post(
        client, {"events": [_event("k-1"), bad, _event("k-1")]}, "/api/v1/events/batch"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["rejected"], body["duplicates"]) == (1, 1, 1)
    assert body["items"][1]["errors"] == [
        {"field": "payload.subject.last_name", "reason": "required"}
    ]


def test_it_feeds_a_polling_agency_only_what_its_agreements_allow(county):
    jail_mou(county)
    jail = with_token(token_for(county, "jail", ["events:write"]))
    _post(jail, _event("k-1"))
    _post(jail, _event("k-2", booking_number="B-2"))
    defender = with_token(token_for(county, "defender", ["events:read"]))
    page = defender.get("/api/v1/events?after=0&purpose=defense_representation")
    assert page.status_code == 200
    body = page.json()
    assert [i["payload"]["booking_number"] for i in body["items"]] == ["B-1", "B-2"]
    assert "MOU-EX-1" in body["items"][0]["basis"]
    nothing_new = defender.get(
        f"/api/v1/events?after={body['next_after']}&purpose=defense_representation"
    )
    assert nothing_new.json()["items"] == []
    wrong_purpose = defender.get("/api/v1/events?after=0&purpose=prosecution")
    assert wrong_purpose.json()["items"] == []
    prosecutor = with_token(token_for(county, "prosecutor", ["events:read"]))
    assert prosecutor.get("/api/v1/events?purpose=defense_representation").json()["items"] == []
    writer_only = with_token(token_for(county, "defender", ["events:write"]))
    assert writer_only.get("/api/v1/events").status_code == 403


def test_it_lets_an_attorney_subscribe_and_read_the_notification(
    county, django_assert_max_num_queries
):
    record = defender_client(county)
    jail_mou(county)
    attorney = as_(county.defender_attorney)
    created = _post(
        attorney,
        {"person_record": record.pk, "event_types": ["custody.booked"]},
        "/api/v1/exchange/subscriptions",
    )
    assert created.status_code == 201, created.content
    _post(with_token(token_for(county, "jail", ["events:write"])), _event())
    deliver(Notification.objects.get().pk)
    with django_assert_max_num_queries(12):
        inbox = attorney.get("/api/v1/exchange/notifications?unread=true")
    assert [n["event_type"] for n in inbox.json()["results"]] == ["custody.booked"]
    note_id = inbox.json()["results"][0]["id"]
    assert (
        as_(county.defender_investigator)
        .post(f"/api/v1/exchange/notifications/{note_id}/read")
        .status_code
        == 404
    )
    assert attorney.post(f"/api/v1/exchange/notifications/{note_id}/read").json()["read_at"]
    assert attorney.get("/api/v1/exchange/notifications?unread=true").json()["results"] == []


def test_it_hides_other_agencies_records_from_subscription(county):
    record = defender_client(county)
    check_matrix(
        county,
        "POST",
        "/api/v1/exchange/subscriptions",
        {None: 401, "prosecutor": 404, "defender_auditor": 403, "defender_attorney": 201},
        data={"person_record": record.pk},
    )


def test_it_lists_and_ends_subscriptions_for_their_owner(county):
    sub = attorney_subscribes(county, defender_client(county))
    check_matrix(
        county,
        "GET",
        "/api/v1/exchange/subscriptions",
        {None: 401, "defender_attorney": 200, "defender_admin": 200, "jail_officer": 200},
    )
    assert as_(county.jail_officer).get("/api/v1/exchange/subscriptions").json()["results"] == []
    url = f"/api/v1/exchange/subscriptions/{sub.pk}/end"
    assert _post(as_(county.defender_investigator), {}, url).status_code == 404
    ended = _post(as_(county.defender_attorney), {"reason": "case closed"}, url)
    assert ended.json()["end_reason"] == "case closed"


def test_it_shows_dead_letters_to_agency_admins_only(county):
    check_matrix(
        county,
        "GET",
        "/api/v1/exchange/dead-letters",
        {None: 401, "defender_admin": 200, "defender_attorney": 403, "coordinator": 403},
    )


def test_it_publishes_the_catalogue(county):
    response = as_(county.jail_officer).get("/api/v1/exchange/event-types")
    assert len(response.json()) == 16
    assert response.json()[0]["payload_schema"]["type"] == "object"
