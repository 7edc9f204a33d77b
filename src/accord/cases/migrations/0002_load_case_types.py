"""Load the workload case types from reference/workload_standards.csv (read, not retyped).

Self-contained on purpose: a migration must do tomorrow what it did today, whatever the
app's code becomes."""

import csv
from decimal import Decimal
from pathlib import Path

from django.db import migrations

STANDARDS = Path(__file__).resolve().parents[1] / "reference" / "workload_standards.csv"


def load(apps, schema_editor):
    CaseType = apps.get_model("cases", "CaseType")
    with STANDARDS.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            CaseType.objects.update_or_create(
                standard=row["standard"].strip(),
                code=row["case_type"].strip(),
                defaults={
                    "hours_per_case": Decimal(row["hours_per_case"].strip()),
                    "source": row["source"].strip()[:300],
                },
            )


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
