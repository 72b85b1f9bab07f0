"""Atom feeds of new public complaints per regency, category and agency (Django's syndication
framework). Only what the public list shows (``Purpose.PUBLIC``: never rahasia), and never a
reporter: an entry's author is the service, its text the complaint's title, category, place
and status."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from agencies.models import Agency, Category, Region
from complaints.models import Complaint
from complaints.selectors import complaints_feed

SERVICE = "Lapor Paman"


class _ComplaintFeed(Feed):
    feed_type = Atom1Feed
    author_name = SERVICE

    def author_link(self) -> str:
        return settings.LAPOR_SITE_URL + "/"

    def feed_guid(self, obj) -> str:
        return settings.LAPOR_SITE_URL + self.link(obj)

    def items(self, obj) -> list[Complaint]:
        return complaints_feed(**{self.kind: obj})

    def item_title(self, item: Complaint) -> str:
        return f"{item.tracking_code}: {item.title}"

    def item_description(self, item: Complaint) -> str:
        return _("%(category)s in %(region)s (%(place)s). Status: %(status)s.") % {
            "category": item.category.name,
            "region": item.region.name,
            "place": item.district or item.address,
            "status": item.get_status_display(),
        }

    def item_link(self, item: Complaint) -> str:
        return item.get_absolute_url()

    def item_guid(self, item: Complaint) -> str:
        return settings.LAPOR_SITE_URL + item.get_absolute_url()

    item_guid_is_permalink = True

    def item_pubdate(self, item: Complaint):
        return item.created_at

    def item_updateddate(self, item: Complaint):
        return item.updated_at

    def item_author_name(self, item: Complaint) -> str:
        return SERVICE

    def item_categories(self, item: Complaint) -> list[str]:
        return [item.category.name]

    kind = ""


class RegionFeed(_ComplaintFeed):
    kind = "region"

    def get_object(self, request, code: str) -> Region:
        return get_object_or_404(Region, code=code)

    def title(self, obj: Region) -> str:
        return _("New complaints in %(region)s") % {"region": obj.name}

    def subtitle(self, obj: Region) -> str:
        return _("Public complaints of %(region)s on Lapor Paman") % {"region": obj.name}

    def link(self, obj: Region) -> str:
        return reverse("complaint-list") + f"?region={obj.code}"


class CategoryFeed(_ComplaintFeed):
    kind = "category"

    def get_object(self, request, code: str) -> Category:
        return get_object_or_404(Category, code=code, is_active=True)

    def title(self, obj: Category) -> str:
        return _("New complaints: %(category)s") % {"category": obj.name}

    def subtitle(self, obj: Category) -> str:
        return _("Public complaints about %(category)s on Lapor Paman") % {"category": obj.name}

    def link(self, obj: Category) -> str:
        return reverse("complaint-list") + f"?category={obj.code}"


class AgencyFeed(_ComplaintFeed):
    kind = "agency"

    def get_object(self, request, pk: int) -> Agency:
        return get_object_or_404(Agency, pk=pk, is_active=True)

    def title(self, obj: Agency) -> str:
        return _("New complaints handled by %(agency)s") % {"agency": obj.name}

    def subtitle(self, obj: Agency) -> str:
        return _("Public complaints given to %(agency)s on Lapor Paman") % {"agency": obj.name}

    def link(self, obj: Agency) -> str:
        return reverse("complaint-list")
