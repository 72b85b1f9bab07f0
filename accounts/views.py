"""Citizen accounts: register, confirm the email address, my complaints, join guest complaints.

Sign-in and sign-out are Django's own views; the password reset is Django's, rate-limited.

Nothing here tells a visitor whether an address has an account: registration always answers
"check your email", and the mail says what happened (a confirmation link, or "someone tried to
register with your address"). Confirming an address only counts for the signed-in account that
registered it, and it never hands complaints over by itself: guest complaints join an account
when the signed-in owner proves each one with its private link, or picks them from the list of
complaints sent with the confirmed address (``complaint_claim`` writes an event for each).
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.hashers import make_password
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from complaints.pagination import NEWEST_FIRST, page_from_query
from complaints.selectors import complaint_claimable, complaints_claimable, complaints_of_reporter
from complaints.services import ClaimProof, complaint_claim
from complaints.workflow import WorkflowError
from lapor.ratelimits import first_limit, target_key, too_many_requests
from notifications.services import notification_queue

from .models import CitizenProfile
from .reporter_session import reporter_codes

VERIFY_SALT = "lapor.email-verify"
VERIFY_MAX_AGE = 7 * 24 * 3600


class RegisterForm(UserCreationForm):
    """Name, email and password; the email address is the username (it signs in)."""

    first_name = forms.CharField(label=gettext_lazy("Your name"), max_length=150)
    email = forms.EmailField(
        label=gettext_lazy("Email"),
        max_length=150,
        help_text=gettext_lazy("You sign in with it. We send a link to confirm it."),
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("first_name", "email")

    def clean_email(self):
        # Whether the address has an account is not checked here: the answer would tell.
        return self.cleaned_data["email"].strip().lower()


def email_verification_send(user) -> None:
    token = signing.dumps({"user": user.pk, "email": user.email}, salt=VERIFY_SALT)
    link = settings.LAPOR_SITE_URL + reverse("verify-email", args=[token])
    notification_queue(
        dedupe_key=f"verify:{user.pk}:{token[-20:]}",
        recipient=user.email,
        template="verify_email",
        context={"user": user, "link": link},
    )


def account_register(*, name: str, email: str, password: str) -> None:
    """Create the account and send its confirmation link; when the address already has an
    account, create nothing and tell that address someone tried (at most once an hour)."""
    User = get_user_model()
    with transaction.atomic():
        existing = User.objects.filter(email__iexact=email).first() or (
            User.objects.filter(username__iexact=email).first()
        )
        if existing is not None:
            make_password(password)  # the same work as a new account, so timing tells nothing
            notification_queue(
                dedupe_key=f"register-existing:{existing.pk}:{timezone.now():%Y%m%d%H}",
                recipient=existing.email or email,
                template="register_existing",
                context={
                    "login_link": settings.LAPOR_SITE_URL + reverse("login"),
                    "reset_link": settings.LAPOR_SITE_URL + reverse("password_reset"),
                },
            )
            return
        user = User.objects.create_user(
            username=email, email=email, password=password, first_name=name
        )
        CitizenProfile.objects.create(user=user)
        email_verification_send(user)


def email_verify(*, user, email: str) -> bool:
    """Mark ``user``'s address confirmed, when the link was made for this address."""
    with transaction.atomic():
        locked = get_user_model().objects.select_for_update().get(pk=user.pk)
        if locked.email.lower() != email.lower():
            return False
        profile, _created = CitizenProfile.objects.get_or_create(user=locked)
        profile.email_verified_at = profile.email_verified_at or timezone.now()
        profile.save()
    return True


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def register(request):
    if request.user.is_authenticated:
        return redirect("my-complaints")
    form = RegisterForm(request.POST or None)
    if request.method == "POST":
        email = (request.POST.get("email") or "").strip().lower()
        minutes = first_limit(
            request,
            ("register-ip", settings.LAPOR_REGISTER_RATE, "ip"),
            ("register-address", settings.LAPOR_EMAIL_TARGET_RATE, target_key(email)),
        )
        if minutes:
            return too_many_requests(request, minutes)
        if form.is_valid():
            account_register(
                name=form.cleaned_data["first_name"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
            messages.info(
                request,
                _(
                    "We have sent an email to %(email)s. Open the link in it, then sign in with "
                    "your email address and password to finish."
                )
                % {"email": form.cleaned_data["email"]},
            )
            return redirect("login")
    return render(request, "registration/register.html", {"form": form})


@never_cache
@require_safe
def verify_email(request, token):
    try:
        payload = signing.loads(token, salt=VERIFY_SALT, max_age=VERIFY_MAX_AGE)
    except signing.SignatureExpired:
        messages.error(request, _("This confirmation link has expired. Sign in to get a new one."))
        return redirect("home")
    except signing.BadSignature:
        messages.error(request, _("This confirmation link is not valid."))
        return redirect("home")
    if not request.user.is_authenticated:
        # Whoever opens the link must also know the password: someone else may have registered
        # with this address, and the owner of the mailbox must not end up confirming for them.
        messages.info(
            request,
            _(
                "Sign in with the account you registered to confirm your address. If you did "
                "not register at Lapor, ignore the email: nothing happens without the password."
            ),
        )
        return redirect_to_login(request.get_full_path())
    if request.user.pk != payload["user"] or not email_verify(
        user=request.user, email=payload["email"]
    ):
        messages.error(request, _("This confirmation link is not for the account you use."))
        return redirect("my-complaints")
    messages.success(request, _("Your email address is confirmed."))
    return redirect("my-complaints")


@never_cache
@login_required
@require_safe
def my_complaints(request):
    page = page_from_query(
        complaints_of_reporter(request.user), request.GET, keys=NEWEST_FIRST, size=20
    )
    profile = CitizenProfile.objects.filter(user=request.user).first()
    return render(
        request,
        "registration/my_complaints.html",
        {
            "page": page,
            "email_unverified": profile is not None and not profile.email_verified_at,
            "claimable": complaints_claimable(request.user),
        },
    )


@login_required
@require_POST
def claim_complaints(request):
    """Join the chosen guest complaints sent with the account's confirmed address."""
    codes = set(request.POST.getlist("codes"))
    claimed = 0
    for complaint in complaints_claimable(request.user):
        if complaint.tracking_code in codes:
            claimed += complaint_claim(
                complaint=complaint, user=request.user, proof=ClaimProof.VERIFIED_EMAIL
            )
    if claimed:
        messages.success(
            request,
            ngettext(
                "%(count)d earlier complaint is now in your list.",
                "%(count)d earlier complaints are now in your list.",
                claimed,
            )
            % {"count": claimed},
        )
    else:
        messages.info(request, _("Choose the complaints that are yours."))
    return redirect("my-complaints")


@login_required
@require_POST
def claim_by_private_link(request, tracking_code):
    """Join one guest complaint whose private link this browser has opened."""
    if tracking_code not in reporter_codes(request):
        raise Http404
    complaint = complaint_claimable(
        tracking_code=tracking_code, reporter_codes=reporter_codes(request)
    )
    if complaint is None:
        raise Http404
    try:
        complaint_claim(complaint=complaint, user=request.user, proof=ClaimProof.PRIVATE_LINK)
    except WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The complaint is now in your list."))
    return redirect(complaint)


@login_required
@require_POST
def resend_verification(request):
    minutes = first_limit(
        request,
        ("verify-again-ip", settings.LAPOR_EMAIL_TARGET_RATE, "ip"),
        (
            "verify-again-address",
            settings.LAPOR_EMAIL_TARGET_RATE,
            target_key(request.user.email),
        ),
    )
    if minutes:
        return too_many_requests(request, minutes)
    email_verification_send(request.user)
    messages.success(request, _("We have sent a new confirmation link."))
    return redirect("my-complaints")


@method_decorator(never_cache, name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, limited per client and per address: each request sends mail."""

    http_method_names = ["get", "head", "post"]

    def post(self, request, *args, **kwargs):
        email = (request.POST.get("email") or "").strip().lower()
        minutes = first_limit(
            request,
            ("password-reset-ip", settings.LAPOR_PASSWORD_RESET_RATE, "ip"),
            ("password-reset-address", settings.LAPOR_EMAIL_TARGET_RATE, target_key(email)),
        )
        if minutes:
            return too_many_requests(request, minutes)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        # The email is signed by the portal and links to its public address, not to whichever
        # host name the request came in by.
        self.extra_email_context = {
            "site_name": _("Lapor Paman"),
            "site_url": settings.LAPOR_SITE_URL.rstrip("/"),
        }
        return super().form_valid(form)
