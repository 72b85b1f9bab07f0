from django.urls import path

from lapor.pagecache import public_page

from . import views
from .inbound_mail import inbound_email
from .rankings import RankingView

urlpatterns = [
    path("regions/", public_page(views.RegionList.as_view()), name="api-regions"),
    path("inbound/email", inbound_email, name="api-inbound-email"),
    path("categories/", public_page(views.CategoryList.as_view()), name="api-categories"),
    path("agencies/", public_page(views.AgencyList.as_view()), name="api-agencies"),
    path("complaints/", public_page(views.ComplaintListCreate.as_view()), name="api-complaints"),
    path(
        "complaints/<str:tracking_code>/",
        public_page(views.ComplaintDetail.as_view()),
        name="api-complaint-detail",
    ),
    path(
        "complaints/<str:tracking_code>/timeline/",
        public_page(views.ComplaintTimeline.as_view()),
        name="api-complaint-timeline",
    ),
    path(
        "complaints/<str:tracking_code>/reply/",
        views.ComplaintReply.as_view(),
        name="api-complaint-reply",
    ),
    path(
        "complaints/<str:tracking_code>/rate/",
        views.ComplaintRate.as_view(),
        name="api-complaint-rate",
    ),
    path(
        "complaints/<str:tracking_code>/reopen/",
        views.ComplaintReopen.as_view(),
        name="api-complaint-reopen",
    ),
    path(
        "complaints/<str:tracking_code>/follow-up/",
        views.StaffFollowUp.as_view(),
        name="api-complaint-follow-up",
    ),
    path(
        "complaints/<str:tracking_code>/resolve/",
        views.StaffResolve.as_view(),
        name="api-complaint-resolve",
    ),
    path(
        "complaints/<str:tracking_code>/not-ours/",
        views.StaffNotOurs.as_view(),
        name="api-complaint-not-ours",
    ),
    path(
        "complaints/<str:tracking_code>/reroute/",
        views.StaffReroute.as_view(),
        name="api-complaint-reroute",
    ),
    path(
        "complaints/<str:tracking_code>/archive/",
        views.StaffArchive.as_view(),
        name="api-complaint-archive",
    ),
    path(
        "complaints/<str:tracking_code>/notes/",
        views.StaffNote.as_view(),
        name="api-complaint-notes",
    ),
    path("staff/queue/", views.StaffQueue.as_view(), name="api-staff-queue"),
    path("rankings/<int:year>/", public_page(RankingView.as_view()), name="api-ranking"),
]
