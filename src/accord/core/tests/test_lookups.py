"""``__in`` with a long list: one array on PostgreSQL, the same rows as ``IN (…)``."""

from __future__ import annotations

import pytest
from django.db import connection

from accord.core.actors import SYSTEM
from accord.core.lookups import ARRAY_FROM
from accord.directory.actions import create_agency
from accord.directory.models import Agency, Unit


def _agencies(count: int) -> list[Agency]:
    return [
        create_agency(
            actor=SYSTEM, name=f"Court {n}", short_name=f"C{n}", kind="court", jurisdiction="Y"
        )
        for n in range(count)
    ]


@pytest.mark.django_db
def test_a_long_list_finds_the_same_rows_as_a_short_one():
    agencies = _agencies(5)
    wanted = [agencies[1].pk, agencies[3].pk]
    # Padded past the array threshold with ids no row has, plus a None and repeats.
    long = [*wanted, *range(10**9, 10**9 + ARRAY_FROM), None, wanted[0]]
    assert sorted(Agency.objects.filter(pk__in=long).values_list("pk", flat=True)) == wanted
    assert sorted(Agency.objects.filter(pk__in=wanted).values_list("pk", flat=True)) == wanted
    names = [a.short_name for a in agencies[:2]] + [f"none-{n}" for n in range(ARRAY_FROM)]
    assert Agency.objects.filter(short_name__in=names).count() == 2
    assert Agency.objects.exclude(pk__in=long).count() == 3


@pytest.mark.django_db
def test_a_foreign_key_list_and_an_empty_one():
    agency = _agencies(1)[0]
    keys = [agency.pk, *range(10**9, 10**9 + ARRAY_FROM)]
    assert (
        Unit.objects.filter(agency__in=keys).count() == Unit.objects.filter(agency=agency).count()
    )
    assert (
        Unit.objects.filter(agency_id__in=keys).count()
        == Unit.objects.filter(agency=agency).count()
    )
    assert not Agency.objects.filter(pk__in=[]).exists()


def _sql(values: list[int]) -> tuple[str, tuple[object, ...]]:
    sql, params = Agency.objects.filter(pk__in=values).query.sql_with_params()
    return sql, tuple(params)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's array parameter")
def test_the_statement_carries_one_array_on_postgresql():
    values = list(range(ARRAY_FROM))
    sql, params = _sql(values)
    assert "= ANY(%s)" in sql
    assert params == (values,)
    short_sql, short_params = _sql(values[:3])
    assert " IN (" in short_sql
    assert len(short_params) == 3


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor == "postgresql", reason="other databases keep IN (…)")
def test_other_databases_keep_one_placeholder_a_value():
    values = list(range(ARRAY_FROM))
    sql, params = _sql(values)
    assert " IN (" in sql
    assert len(params) == ARRAY_FROM
    short_sql, short_params = _sql(values[:3])
    assert " IN (" in short_sql
    assert len(short_params) == 3
