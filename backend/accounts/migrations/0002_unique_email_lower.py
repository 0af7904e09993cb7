from django.db import migrations

# Email addresses are unique case-insensitively. Django's User cannot take a constraint
# without swapping the user model, so a functional unique index on lower(email) does it
# (users without an address, such as some staff accounts, are left out).
CREATE = (
    "CREATE UNIQUE INDEX accounts_user_email_lower_uniq ON auth_user (LOWER(email)) "
    "WHERE email <> ''"
)
DROP = "DROP INDEX IF EXISTS accounts_user_email_lower_uniq"


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunSQL(CREATE, reverse_sql=DROP)]
