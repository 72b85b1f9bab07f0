from .selectors import staff_scope_for


def staff_scope(request):
    """Exposes the staff scope lazily, so navigation can show the right links per role."""

    def scope():
        return staff_scope_for(getattr(request, "user", None))

    return {"staff_scope": scope}
