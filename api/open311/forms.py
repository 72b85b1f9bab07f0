"""The fields of an Open311 ``POST requests`` (GeoReport v2), checked as a Django form.

GeoReport v2 answers a bad request with one error, so the checks run in a fixed order and the
view reports the first; ``cleaned_data`` then holds what ``complaint_submit`` takes.
"""

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agencies.models import Region
from agencies.selectors import categories_active
from complaints.models import Classification

from .geo import region_for_address, region_for_point

MEDIA_URL_MAX_LENGTH = 500
TITLE_MAX_LENGTH = 150


def _degrees(raw: str) -> Decimal | None:
    """Decimal degrees, or None for anything else (text, NaN, infinities, absurd sizes)."""
    try:
        value = Decimal(raw)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() and abs(value) <= 360 else None


class Open311RequestForm(forms.Form):
    service_code = forms.CharField(
        error_messages={"required": gettext_lazy("service_code was not provided.")}
    )
    lat = forms.CharField(required=False)
    long = forms.CharField(required=False)
    address_string = forms.CharField(required=False)
    address_id = forms.CharField(required=False)
    description = forms.CharField(required=False)
    media_url = forms.CharField(required=False)
    first_name = forms.CharField(required=False)
    last_name = forms.CharField(required=False)
    email = forms.CharField(required=False)
    phone = forms.CharField(required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Open311's names for the attributes a jurisdiction adds (see service_definition).
        self.fields["attribute[regency]"] = forms.CharField(required=False)
        self.fields["attribute[classification]"] = forms.CharField(required=False)

    def clean_service_code(self):
        category = categories_active().filter(code=self.cleaned_data["service_code"][:40]).first()
        if category is None:
            raise forms.ValidationError(_("service_code not found."))
        return category

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        latitude = longitude = None
        if data["lat"] or data["long"]:
            latitude, longitude = _degrees(data["lat"]), _degrees(data["long"])
            if latitude is None or longitude is None:
                raise forms.ValidationError(_("lat and long must both be decimal degrees."))
            latitude, longitude = round(latitude, 6), round(longitude, 6)
        address = data["address_string"]
        if latitude is None and not address and not data["address_id"]:
            raise forms.ValidationError(_("Give lat and long, or address_string."))

        regency_code = data["attribute[regency]"]
        if regency_code:
            region = Region.objects.filter(code=regency_code[:8]).exclude(kind="province").first()
            if region is None:
                raise forms.ValidationError(_("attribute[regency] is not a regency or city code."))
        elif latitude is not None and longitude is not None:
            region = region_for_point(latitude, longitude)
        else:
            region = region_for_address(address)
            if region is None:
                raise forms.ValidationError(
                    _("Give lat and long, or attribute[regency]: the address names no one regency.")
                )

        description = data["description"]
        media_url = data["media_url"]
        if media_url:
            if (
                not media_url.startswith(("http://", "https://"))
                or len(media_url) > MEDIA_URL_MAX_LENGTH
            ):
                raise forms.ValidationError(_("media_url must be an http(s) URL."))
            description = f"{description}\n\n{_('Media')}: {media_url}"
        first_line = description.splitlines()[0] if description else ""
        if len(first_line) > TITLE_MAX_LENGTH:
            first_line = first_line[: TITLE_MAX_LENGTH - 3] + "…"
        data.update(
            category=data["service_code"],
            latitude=latitude,
            longitude=longitude,
            address=address or f"{latitude}, {longitude}",
            region=region,
            classification=data["attribute[classification]"] or Classification.PENGADUAN,
            title=first_line,
            description=description,
            reporter_name=" ".join(p for p in (data["first_name"], data["last_name"]) if p),
        )
        return data

    def first_error(self) -> str:
        """The one error GeoReport v2 reports."""
        return next(iter(self.errors.values()))[0]
