from __future__ import annotations

import pytest

from accord.core.actions import UnprotectedWrite
from accord.core.actors import SYSTEM
from accord.directory.actions import create_agency
from accord.directory.models import Agency


@pytest.mark.django_db
def test_it_refuses_a_protected_save_outside_an_action():
    with pytest.raises(UnprotectedWrite, match=r"directory/actions\.py"):
        Agency.objects.create(name="X", short_name="X", kind="court", jurisdiction="Y")


@pytest.mark.django_db
def test_it_refuses_a_queryset_update_outside_an_action():
    create_agency(actor=SYSTEM, name="A", short_name="A", kind="court", jurisdiction="Y")
    with pytest.raises(UnprotectedWrite):
        Agency.objects.update(name="B")


@pytest.mark.django_db
def test_insert_many_refuses_outside_an_action():
    from accord.core.actions import insert_many

    with pytest.raises(UnprotectedWrite):
        insert_many([Agency(name="X", short_name="X", kind="court", jurisdiction="Y")])
    assert not Agency.objects.filter(short_name="X").exists()
