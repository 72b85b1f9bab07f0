"""Types the apps share in their annotations (only for the type checker: importing this module
loads no models)."""

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    # Whoever makes a request: a signed-in user or an anonymous visitor.
    AnyUser: TypeAlias = User | AnonymousUser
