"""The one answer to "which complaints may this caller read, and for what".

Every list, detail, aggregate, export, API and Open311 view starts from ``complaints_for``; no
view filters ``Complaint.objects`` by itself. The purposes:

- ``PUBLIC``: what anyone may see: routed, not rahasia, not archived. ``user`` is ignored.
- ``SEE``: every complaint ``user`` may open: public ones, their own (account or private link),
  and those they handle as staff.
- ``WORK``: the staff work set: an officer's agency's complaints, a coordinator's region's
  (every agency plus triage), the whole province for provincial staff. Empty for citizens.
- ``OWN``: the reporter's own complaints (account, or tracking codes proven by private link).
- ``CLAIM``: guest complaints sent with the signed-in user's confirmed email address, which the
  user may pick to join their account (``complaint_claim``); only their code, title and date
  are shown.
"""

from enum import StrEnum
from typing import TYPE_CHECKING

from django.db.models import Q

from agencies.selectors import staff_scope_for
from notifications.messaging import phone_normalise

from .codes import access_key_hash
from .models import Complaint
from .querysets import ComplaintQuerySet
from .workflow import PUBLIC_STATUSES

if TYPE_CHECKING:
    from lapor.types import AnyUser


class Purpose(StrEnum):
    PUBLIC = "public"
    SEE = "see"
    WORK = "work"
    OWN = "own"
    CLAIM = "claim"


def complaints_for(
    user: "AnyUser | None",
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
    if purpose == Purpose.CLAIM:
        return qs._claimable_by(user)
    return qs._visible_to(user, reporter_codes=reporter_codes)


def counts_scope_q(user: "AnyUser | None", *, purpose: Purpose) -> Q:
    """The same scope as ``complaints_for``, as a filter on the figures' tally
    (``complaints.tally``: rows keyed by region, agency, status and the rahasia flag).

    ``PUBLIC``: not rahasia and in a public status; ``WORK``: the staff member's agencies,
    regions or the whole province (nothing for citizens). Counts are only ever taken for these.
    """
    if purpose == Purpose.PUBLIC:
        return Q(is_confidential=False, status__in=list(PUBLIC_STATUSES))
    if purpose == Purpose.WORK:
        scope = staff_scope_for(user)
        if not scope.is_staff:
            return Q(pk__in=[])
        return scope.q(agency_field="agency", region_field="region")
    raise ValueError(f"Counts are taken for PUBLIC or WORK, not {purpose}.")


def private_link_opens(tracking_code: str, key: str) -> bool:
    """Whether ``key`` is the private-link secret of complaint ``tracking_code``: the proof that
    makes a visitor its reporter (their code then joins ``reporter_codes``)."""
    return Complaint.objects.filter(
        tracking_code=tracking_code, access_key_hash=access_key_hash(key)
    ).exists()


def phone_reporter_codes(phone: str) -> frozenset[str]:
    """Tracking codes of the guest complaints (no account) filed with mobile number ``phone``
    (``+62...``): the proof that a code sent to that number gives, as a private link does.
    Numbers are compared in their normal form, whatever way the reporter typed theirs."""
    if not phone or len(phone) < 8:
        return frozenset()
    candidates = Complaint.objects.filter(
        reporter__isnull=True, reporter_phone__contains=phone[-4:]
    ).values_list("tracking_code", "reporter_phone")
    return frozenset(code for code, raw in candidates if phone_normalise(raw) == phone)
