from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .sessions import session_rules_remember


@receiver(user_logged_in, dispatch_uid="signin.session_rules")
def _session_rules_on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        session_rules_remember(request, user)
