from django.db import migrations


def create_row(apps, schema_editor):
    # The one row whose token every process compares with the policy set it holds.
    apps.get_model("policy", "PolicyVersion").objects.get_or_create(
        pk=1, defaults={"counter": 0, "token": "initial"}
    )


class Migration(migrations.Migration):
    dependencies = [("policy", "0001_initial")]

    operations = [migrations.RunPython(create_row, migrations.RunPython.noop)]
