from django import forms
from django.utils.translation import gettext_lazy as _


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
