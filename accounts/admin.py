from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from .models import SignInPolicy

User = get_user_model()


class LaporUserAdmin(UserAdmin):
    """Django's user admin without email addresses in the list: an account's address is on
    its own page, for the administrator who opens it, not in a table of everyone's."""

    list_display = ("username", "first_name", "last_name", "is_staff", "is_active")


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, LaporUserAdmin)


@admin.register(SignInPolicy)
class SignInPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "staff_two_factor_required", "updated_at", "updated_by"]
    readonly_fields = ["updated_at", "updated_by"]

    def has_add_permission(self, request):
        return not SignInPolicy.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = SignInPolicy.SINGLETON_ID
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
