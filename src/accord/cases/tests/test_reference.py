"""The workload case types are reference data: loaded by a migration, and back after a
database flush (which the transactional tests do after each test)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accord.cases.actions import reload_case_types
from accord.cases.models import CaseType
from accord.cases.models.reference import read_standards
from accord.core.actors import SYSTEM


@pytest.mark.django_db(transaction=True)
def test_a_flush_brings_the_case_types_back():
    expected = len(read_standards())
    assert CaseType.objects.count() == expected
    call_command("flush", interactive=False, verbosity=0)
    assert CaseType.objects.count() == expected
    assert CaseType.objects.filter(standard="NPDWS-2023", code="felony_mid").exists()


@pytest.mark.django_db
def test_reloading_never_touches_a_table_that_has_rows():
    assert reload_case_types(actor=SYSTEM) == 0
