"""Characters a stored text may not hold: those XML 1.0 cannot carry (C0 controls but tab, line
feed and carriage return; U+FFFE, U+FFFF) and lone surrogates (from a JSON ``"\\ud800"``,
which PostgreSQL cannot store in UTF-8). One title with a vertical tab once made the Open311
feed ill-formed for everyone; they are removed on the way in and, as a second line, on the way
out of every XML document."""

import functools
import re
import sys

_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def has_unsafe_characters(value: str) -> bool:
    return bool(_UNSAFE.search(value))


def xml_safe(value: str) -> str:
    """``value`` without the characters XML cannot carry."""
    return _UNSAFE.sub("", value)


@functools.cache
def _own_model(sender) -> bool:
    """A model of the project's own apps (third-party apps look rows up by the values they
    save, e.g. django-axes by username; they are left alone)."""
    module = sys.modules.get(sender.__module__)
    path = getattr(module, "__file__", "") or ""
    return "site-packages" not in path and not sender.__module__.startswith("django.")


def strip_unsafe_text(sender, instance, raw=False, **kwargs) -> None:
    """``pre_save``: every text field of the project's models is stored without such
    characters, whichever door (form, API, Open311, admin, a service) the value came through."""
    if raw or not _own_model(sender):
        return
    for field in sender._meta.concrete_fields:
        if field.get_internal_type() in ("CharField", "TextField", "EmailField", "SlugField"):
            value = getattr(instance, field.attname)
            if isinstance(value, str) and _UNSAFE.search(value):
                setattr(instance, field.attname, xml_safe(value))
