"""What every staff page shares: who may open it, and the query string of its filters."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from agencies.selectors import StaffScope, staff_scope_for

PAGE_SIZE = 50


def staff_scope_or_403(request) -> StaffScope:
    scope = staff_scope_for(request.user)
    if not scope.is_staff:
        raise PermissionDenied(_("This page is for agency and Kominfo staff."))
    return scope


def query_without_page(request) -> str:
    """The query string of the filters: without the pager's cursors (or an old page number)."""
    query = request.GET.copy()
    for key in ("page", "after", "before"):
        query.pop(key, None)
    return query.urlencode()
