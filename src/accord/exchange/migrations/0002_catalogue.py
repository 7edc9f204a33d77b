"""Load the event catalogue (``accord.exchange.catalogue``) as rows. Re-running it adds new
codes and versions; it never changes a shipped version's schema."""

from typing import Any

from django.db import migrations


def load(apps: Any, schema_editor: Any) -> None:
    from accord.exchange.catalogue import CATALOGUE

    EventType = apps.get_model("exchange", "EventType")
    for spec in CATALOGUE:
        EventType.objects.get_or_create(
            code=spec.code,
            version=spec.version,
            defaults={
                "title": spec.title,
                "family": spec.family,
                "schema": spec.schema(),
                "categories": list(spec.categories),
            },
        )


class Migration(migrations.Migration):
    dependencies = [("exchange", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
