from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class SignInForm(AuthenticationForm):
    """Django's sign-in form, labelled for what people type: citizens their email address,
    staff their username."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "This email address (or username) and password do not match an account. Check "
            "both and try again; the password is case-sensitive."
        ),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        field = self.fields["username"]
        field.label = _("Email address (staff: username)")
        field.widget.attrs.update(
            {"autocapitalize": "none", "autocorrect": "off", "spellcheck": "false"}
        )

    def clean_username(self):
        # One spelling per address, so lock-out counts every attempt at it together.
        username = self.cleaned_data["username"].strip()
        return username.lower() if "@" in username else username


class CodeForm(forms.Form):
    token = forms.CharField(
        label=_("6-digit code"),
        help_text=_("Open your authenticator app and enter the code it shows for Lapor Paman."),
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
    )

    def clean_token(self):
        token = "".join(self.cleaned_data["token"].split())
        if not (token.isdigit() and len(token) == 6):
            raise forms.ValidationError(_("Enter the 6 digits shown in your authenticator app."))
        return token


class SignInPolicyForm(forms.Form):
    staff_two_factor_required = forms.BooleanField(
        label=_("Require two-factor sign-in for all staff"),
        required=False,
        help_text=_(
            "Officers, coordinators and provincial staff without an authenticator app are "
            "asked to set one up at their next page."
        ),
    )
