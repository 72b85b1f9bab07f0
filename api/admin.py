"""API credentials in the admin: staff integration tokens and Open311 clients' api_keys, each
shown once when issued (stored hashed) and revoked here."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from accounts.selectors import user_has_two_factor
from agencies.selectors import staff_scope_for

from .models import Open311Client, StaffToken

# The library registers its own, user-less key model; Lapor's tokens belong to a staff account.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


class StaffTokenForm(forms.ModelForm):
    class Meta:
        model = StaffToken
        fields = ["name", "user", "expiry_date", "revoked"]

    def clean_user(self):
        user = self.cleaned_data["user"]
        if user is not None and not staff_scope_for(user).is_staff:
            raise forms.ValidationError(
                gettext_lazy("Tokens are for staff accounts: give this account a staff role first.")
            )
        # A token signs in without the code step: it is only issued to an account whose sign-in
        # already needs the second factor, so that it is never the weaker way in.
        if user is not None and not user_has_two_factor(user):
            raise forms.ValidationError(
                gettext_lazy(
                    "Tokens are only issued to accounts with two-factor sign-in: the account's "
                    "owner sets it up first."
                )
            )
        return user


@admin.register(StaffToken)
class StaffTokenAdmin(APIKeyModelAdmin):
    form = StaffTokenForm
    list_display = ("prefix", "name", "user", "created", "last_used_at", "expiry_date", "revoked")
    list_filter = ("revoked", "created")
    search_fields = ("name", "prefix", "user__username")
    raw_id_fields = ("user",)
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None:
            fields = (*fields, "user")
        return fields

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        key = StaffToken.objects.assign_key(obj)
        obj.save()
        messages.warning(
            request,
            _(
                "The token for “%(name)s” is: %(key)s — copy it now: it is stored hashed and "
                "cannot be shown again."
            )
            % {"name": obj.name, "key": key},
        )

    @admin.action(description=gettext_lazy("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        count = queryset.filter(revoked=False).update(revoked=True)
        messages.success(
            request,
            ngettext(
                "%(count)d token has been revoked.", "%(count)d tokens have been revoked.", count
            )
            % {"count": count},
        )


@admin.register(Open311Client)
class Open311ClientAdmin(APIKeyModelAdmin):
    list_display = ("prefix", "name", "contact_email", "created", "expiry_date", "revoked")
    list_filter = ("revoked", "created")
    search_fields = ("name", "prefix", "contact_email")
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        key = Open311Client.objects.assign_key(obj)
        obj.save()
        messages.warning(
            request,
            _(
                "The api_key for “%(name)s” is: %(key)s — copy it now: it is stored hashed and "
                "cannot be shown again."
            )
            % {"name": obj.name, "key": key},
        )

    @admin.action(description=gettext_lazy("Revoke the selected keys"))
    def revoke(self, request, queryset):
        count = queryset.filter(revoked=False).update(revoked=True)
        messages.success(
            request,
            ngettext("%(count)d key has been revoked.", "%(count)d keys have been revoked.", count)
            % {"count": count},
        )
