"""Sessions once held private-link keys (``lapor_access_keys``); remove them from every session."""

from django.db import migrations

OLD_KEY = "lapor_access_keys"


def scrub(apps, schema_editor):
    from django.contrib.sessions.backends.db import SessionStore

    Session = apps.get_model("sessions", "Session")
    store = SessionStore()
    for session in Session.objects.filter(session_data__isnull=False).iterator():
        data = store.decode(session.session_data)
        if OLD_KEY in data:
            data.pop(OLD_KEY)
            session.session_data = store.encode(data)
            session.save(update_fields=["session_data"])


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0006_attachment_names_not_kept_claimed_event"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(scrub, migrations.RunPython.noop)]
