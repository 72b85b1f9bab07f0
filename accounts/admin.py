from django.contrib import admin

from .models import SignInPolicy


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
