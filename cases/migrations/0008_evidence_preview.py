import cases.models
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_fewer_case_indexes")]

    operations = [
        migrations.AddField(
            model_name="evidence",
            name="preview",
            field=models.FileField(blank=True, max_length=300, storage=cases.models._evidence_storage, upload_to=""),
        ),
    ]
