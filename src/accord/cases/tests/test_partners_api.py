"""The partner changes and the shared list over the API: the same rows and decisions as the
case and client pages, disclosed as returned, refused to anyone outside the case staff."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accord.cases.models import PartnerChange
from accord.cases.testing import run_event_effects
from accord.cases.tests.test_partners import _ingest, post_event, represented  # noqa: F401
from accord.core.testing import as_, with_token
from accord.exchange.testing import jail_mou, token_for
from accord.policy.models import Disclosure


def test_a_booking_shows_in_the_case_partner_updates_with_its_clause(represented, office):  # noqa: F811
    case = represented
    jail_mou(office)
    jail = with_token(token_for(office, "jail", ["events:write"]))
    post_event(jail, "custody.booked", {"booking_number": "B-9", "facility": "Main jail"}, "b-9")
    run_event_effects()

    response = as_(office.defender_attorney).get(f"/api/v1/cases/cases/{case.pk}/partner-updates")
    assert response.status_code == 200
    [update] = response.json()["results"]
    assert update["change"] == PartnerChange.CUSTODY_BEGAN
    assert update["changed"] is True
    assert update["reference"] == "B-9"
    assert update["source_agency"] == office.jail.name
    assert "MOU-EX-1 §3.2" in update["basis"]
    assert (
        as_(office.prosecutor).get(f"/api/v1/cases/cases/{case.pk}/partner-updates").status_code
        == 403
    )


def test_the_shared_list_is_decided_disclosed_and_paged_back_by_time(represented, office):  # noqa: F811
    case = represented
    url = f"/api/v1/cases/clients/{case.client_id}/shared"
    for n in range(3):
        _ingest(
            office,
            "custody.transferred",
            {"booking_number": "B-7", "to_facility": f"Unit {n}"},
            f"t-{n}",
            timezone.now() - timedelta(hours=3 - n),
        )
    attorney = as_(office.defender_attorney)
    assert attorney.get(url).json() == []  # no agreement yet: nothing, and nothing disclosed
    assert not Disclosure.objects.exists()

    jail_mou(office)
    first = attorney.get(url, {"limit": 2}).json()
    assert [item["summary"].rsplit(" ", 1)[-1] for item in first] == ["2", "1"]
    assert all("MOU-EX-1 §3.2" in item["basis"] for item in first)
    assert Disclosure.objects.count() == 1  # one row per read, client and discloser
    assert Disclosure.objects.get().discloser_id == office.jail.pk
    rest = attorney.get(url, {"limit": 2, "before": first[-1]["occurred_at"]}).json()
    assert [item["summary"].rsplit(" ", 1)[-1] for item in rest] == ["0"]
    assert Disclosure.objects.count() == 2
    assert as_(office.prosecutor).get(url).status_code == 403
    assert attorney.get(url, {"limit": 0}).status_code == 422
