"""The one answer to "which complaints may this caller read, and for what".

Every list, detail, aggregate, export, API and Open311 view starts from ``complaints_for``; no
view filters ``Complaint.objects`` by itself. The purposes:

- ``PUBLIC``: what anyone may see: routed, not rahasia, not archived. ``user`` is ignored.
- ``SEE``: every complaint ``user`` may open: public ones, their own (account or private link),
  and those they handle as staff.
- ``WORK``: the staff work set: an officer's agency's complaints, a coordinator's region's
  (every agency plus triage), the whole province for provincial staff. Empty for citizens.
- ``OWN``: the reporter's own complaints (account, or tracking codes proven by private link).
"""

from enum import StrEnum

from .codes import access_key_hash
from .models import Complaint
from .querysets import ComplaintQuerySet


class Purpose(StrEnum):
    PUBLIC = "public"
    SEE = "see"
    WORK = "work"
    OWN = "own"


def complaints_for(
    user,
    *,
    purpose: Purpose = Purpose.SEE,
    reporter_codes: frozenset[str] = frozenset(),
) -> ComplaintQuerySet:
    """The complaints ``user`` may read for ``purpose``; chain filters, never widen."""
    qs: ComplaintQuerySet = Complaint.objects.all()
    if purpose == Purpose.PUBLIC:
        return qs._public()
    if purpose == Purpose.WORK:
        return qs._handled_by(user)
    if purpose == Purpose.OWN:
        return qs._reported_by(user, reporter_codes=reporter_codes)
    return qs._visible_to(user, reporter_codes=reporter_codes)


def private_link_opens(tracking_code: str, key: str) -> bool:
    """Whether ``key`` is the private-link secret of complaint ``tracking_code``: the proof that
    makes a visitor its reporter (their code then joins ``reporter_codes``)."""
    return Complaint.objects.filter(
        tracking_code=tracking_code, access_key_hash=access_key_hash(key)
    ).exists()
