"""The `accord` command's own subcommands."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from accord.accounts.models import User
from accord.audit import chain
from accord.directory.models import Agency, AgencyKind


@pytest.mark.django_db
def test_it_creates_the_first_coordinator_and_council(monkeypatch, capsys):
    monkeypatch.setenv("ACCORD_ADMIN_PASSWORD", "a long enough passphrase")
    call_command("createadmin", "--username", "cora", "--email", "cora@county.example")
    user = User.objects.get(username="cora")
    assert user.check_password("a long enough passphrase")
    assert user.staff.agency.kind == AgencyKind.COORDINATING_COUNCIL
    assert user.staff.roles == {"coordinator", "agency_admin"}
    assert "Created coordinator cora" in capsys.readouterr().out
    assert chain.verify().ok


@pytest.mark.django_db
def test_it_refuses_a_weak_admin_password_and_writes_nothing(monkeypatch):
    monkeypatch.setenv("ACCORD_ADMIN_PASSWORD", "password")
    with pytest.raises(CommandError, match="password"):
        call_command("createadmin", "--username", "cora", "--email", "cora@county.example")
    assert not User.objects.exists()
    assert not Agency.objects.exists()


@pytest.mark.django_db
def test_it_seeds_the_demo_county_once(capsys):
    call_command("demo", verbosity=0)
    agencies = Agency.objects.count()
    assert agencies >= 10
    assert User.objects.filter(is_demo=True).count() >= 10
    call_command("demo", verbosity=0)
    assert Agency.objects.count() == agencies
    assert "already there" in capsys.readouterr().out
    # and then plays events against it
    from accord.exchange.models import Event

    before = Event.objects.count()
    call_command("demo", "simulate", count=2, interval=0, verbosity=0)
    assert Event.objects.count() == before + 2


@pytest.mark.django_db
def test_it_never_seeds_the_demo_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="never seeded in production"):
        call_command("demo", verbosity=0)
    assert not Agency.objects.exists()


def test_it_prints_a_new_field_key(capsys):
    call_command("keys", "new", "--id", "k2")
    line = capsys.readouterr().out.splitlines()[0]
    key_id, _, key = line.partition(":")
    assert key_id == "k2"
    assert len(key) == 44
