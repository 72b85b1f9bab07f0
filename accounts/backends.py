"""Sign-in by email address or username, whatever the case a phone keyboard gave it."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q


class EmailOrUsernameBackend(ModelBackend):
    """Citizens sign in with their email address (their username is that address, in lower
    case), staff with their username. Either is matched without regard to case; an address
    shared by several accounts signs into none of them (the username must be used)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        User = get_user_model()
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if not username or password is None:
            return None
        username = username.strip()
        candidates = list(
            User._default_manager.filter(
                Q(username__iexact=username) | Q(email__iexact=username)
            ).order_by("pk")[:3]
        )
        exact = [u for u in candidates if u.username == username]
        by_name = [u for u in candidates if u.username.lower() == username.lower()]
        matches = exact or by_name or candidates
        if len(matches) != 1:
            User().set_password(password)  # the same work as a real check: timing tells nothing
            return None
        user = matches[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
