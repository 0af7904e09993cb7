from django.db import migrations, models


def _confirmed_are_sent(apps, schema_editor):
    # Requests someone marked processed by hand are done; the rest get sent.
    Request = apps.get_model("accounts", "PosthogDeletionRequest")
    Request.objects.filter(processed_at__isnull=False).update(status="sent")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_unique_email_lower"),
    ]

    operations = [
        migrations.AddField(
            model_name="posthogdeletionrequest",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="posthogdeletionrequest",
            name="last_error",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AddField(
            model_name="posthogdeletionrequest",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="posthogdeletionrequest",
            name="status",
            field=models.CharField(
                choices=[("pending", "Pending"), ("sent", "Sent"), ("failed", "Failed")],
                default="pending",
                max_length=16,
            ),
        ),
        migrations.AddIndex(
            model_name="posthogdeletionrequest",
            index=models.Index(
                fields=["status", "next_attempt_at"], name="accounts_po_status_ad47f0_idx"
            ),
        ),
        migrations.RunPython(_confirmed_are_sent, migrations.RunPython.noop),
    ]
