"""Citizen accounts: register, verify email, my complaints. Sign-in/out are Django's own views."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.core import signing
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from .models import CitizenProfile, Complaint
from .notifications import notification_queue
from .selectors import complaints_of_reporter

VERIFY_SALT = "lapor.email-verify"
VERIFY_MAX_AGE = 7 * 24 * 3600


class RegisterForm(UserCreationForm):
    first_name = forms.CharField(label=gettext_lazy("Your name"), max_length=150)
    email = forms.EmailField(
        label=gettext_lazy("Email"),
        help_text=gettext_lazy(
            "We send a link to confirm it; complaints you sent as a guest with this address "
            "then appear under “My complaints”."
        ),
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "first_name", "email")

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("An account with this email address already exists."))
        return email


def email_verification_send(user) -> None:
    token = signing.dumps({"user": user.pk, "email": user.email}, salt=VERIFY_SALT)
    link = settings.LAPOR_SITE_URL + reverse("verify-email", args=[token])
    notification_queue(
        dedupe_key=f"verify:{user.pk}:{token[-20:]}",
        recipient=user.email,
        template="verify_email",
        context={"user": user, "link": link},
    )


def email_verify(*, user_id: int, email: str) -> int:
    """Mark the email verified and make the guest complaints sent with it this account's."""
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().get(pk=user_id)
        if user.email.lower() != email.lower():
            return 0
        profile, _created = CitizenProfile.objects.get_or_create(user=user)
        profile.email_verified_at = profile.email_verified_at or timezone.now()
        profile.save()
        return Complaint.objects.filter(reporter__isnull=True, reporter_email__iexact=email).update(
            reporter=user
        )


@require_http_methods(["GET", "POST"])
def register(request):
    if request.user.is_authenticated:
        return redirect("my-complaints")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            CitizenProfile.objects.create(user=user)
            email_verification_send(user)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request,
            _("Welcome! We have sent a link to %(email)s: open it to confirm your address.")
            % {"email": user.email},
        )
        return redirect("my-complaints")
    return render(request, "registration/register.html", {"form": form})


def verify_email(request, token):
    try:
        payload = signing.loads(token, salt=VERIFY_SALT, max_age=VERIFY_MAX_AGE)
    except signing.SignatureExpired:
        messages.error(request, _("This confirmation link has expired. Sign in to get a new one."))
        return redirect("home")
    except signing.BadSignature:
        messages.error(request, _("This confirmation link is not valid."))
        return redirect("home")
    claimed = email_verify(user_id=payload["user"], email=payload["email"])
    messages.success(request, _("Your email address is confirmed."))
    if claimed:
        messages.info(
            request,
            ngettext(
                "%(count)d earlier complaint is now in your list.",
                "%(count)d earlier complaints are now in your list.",
                claimed,
            )
            % {"count": claimed},
        )
    return redirect("my-complaints" if request.user.is_authenticated else "login")


@login_required
def my_complaints(request):
    page = Paginator(complaints_of_reporter(request.user), 20).get_page(request.GET.get("page"))
    profile = CitizenProfile.objects.filter(user=request.user).first()
    return render(
        request,
        "registration/my_complaints.html",
        {"page": page, "email_unverified": profile is not None and not profile.email_verified_at},
    )


@login_required
@require_http_methods(["POST"])
def resend_verification(request):
    email_verification_send(request.user)
    messages.success(request, _("We have sent a new confirmation link."))
    return redirect("my-complaints")
