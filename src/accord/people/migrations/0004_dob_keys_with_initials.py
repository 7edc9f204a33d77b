"""The ``db`` key now carries an initial (``YYYYMMDD|i``, see ``people.keys``): every
record with a date of birth is filed again under the new keys, from its match data (the
date and the names it was filed with), a batch at a time."""

from django.db import migrations

BATCH = 5000


def _refile(apps, value_of):
    from accord.people.keys import Name, initials

    record_model = apps.get_model("people", "PersonRecord")
    key_model = apps.get_model("people", "PersonKey")
    key_model.objects.filter(kind="db").delete()
    rows = (
        record_model.objects.exclude(match_data="")
        .order_by("pk")
        .values_list("pk", "agency_id", "match_data")
    )
    batch = []
    for pk, agency_id, match_data in rows.iterator(chunk_size=BATCH):
        head, *encoded = match_data.split("|")
        if not head:
            continue
        names = [Name.decode(text) for text in encoded]
        batch += [
            key_model(agency_id=agency_id, record_id=pk, kind="db", value=value)
            for value in value_of(head, names)
        ]
        if len(batch) >= BATCH:
            key_model.objects.bulk_create(batch)
            batch = []
    key_model.objects.bulk_create(batch)


def with_initials(apps, schema_editor):
    from accord.people.keys import initials

    _refile(apps, lambda head, names: sorted(f"{head}|{i}" for i in initials(names)))


def without_initials(apps, schema_editor):
    _refile(apps, lambda head, names: [head])


class Migration(migrations.Migration):
    dependencies = [("people", "0003_person_keys_unchecked")]

    operations = [migrations.RunPython(with_initials, without_initials, elidable=True)]
