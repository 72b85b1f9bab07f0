from django.urls import path

from . import discover, opendata, views

urlpatterns = [
    path("", views.home, name="home"),
    path("complaints/", views.complaint_list, name="complaint-list"),
    path("complaints/new/", views.complaint_new, name="complaint-new"),
    path("complaints/similar/", discover.similar, name="complaint-similar"),
    path("peta/", discover.map_page, name="map"),
    path("peta/data/", discover.map_data, name="map-data"),
    path("data/complaints.geojson", opendata.complaints_geojson, name="open-data-geojson"),
    path("data/complaints.csv", opendata.complaints_csv, name="open-data-csv"),
    path("complaints/<str:tracking_code>/", views.complaint_detail, name="complaint-detail"),
    path(
        "complaints/<str:tracking_code>/created/",
        views.complaint_created,
        name="complaint-created",
    ),
    path(
        "complaints/<str:tracking_code>/reply/",
        views.complaint_reply_view,
        name="complaint-reply",
    ),
    path(
        "complaints/<str:tracking_code>/support/",
        discover.complaint_support_view,
        name="complaint-support",
    ),
    path("complaints/<str:tracking_code>/rate/", views.complaint_rate_view, name="complaint-rate"),
    path(
        "complaints/<str:tracking_code>/reopen/",
        views.complaint_reopen_view,
        name="complaint-reopen",
    ),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("track/", views.track, name="track"),
]
