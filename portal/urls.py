from django.urls import path

from . import discover, feeds, fixed, follow, mydata, opendata, phone, views

urlpatterns = [
    path("", views.home, name="home"),
    path("complaints/", views.complaint_list, name="complaint-list"),
    path("complaints/new/", views.complaint_new, name="complaint-new"),
    path("complaints/similar/", discover.similar, name="complaint-similar"),
    path("peta/", discover.map_page, name="map"),
    path("peta/data/", discover.map_data, name="map-data"),
    path("data/complaints.geojson", opendata.complaints_geojson, name="open-data-geojson"),
    path("data/complaints.csv", opendata.complaints_csv, name="open-data-csv"),
    path("complaints/is-it-fixed/<str:answer>/", fixed.fixed_check, name="fixed-check"),
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
    path(
        "complaints/<str:tracking_code>/follow/",
        follow.complaint_follow_view,
        name="complaint-follow",
    ),
    path("ikuti/wilayah/", follow.area_follow, name="follow-area"),
    path("ikuti/konfirmasi/<str:token>/", follow.follow_confirm_view, name="follow-confirm"),
    path("ikuti/berhenti/<str:token>/", follow.follow_unsubscribe_view, name="follow-unsubscribe"),
    path(
        "ikuti/pelapor/<str:token>/", follow.reporter_unsubscribe_view, name="reporter-unsubscribe"
    ),
    path("feeds/regency/<str:code>/", feeds.RegionFeed(), name="feed-region"),
    path("feeds/category/<str:code>/", feeds.CategoryFeed(), name="feed-category"),
    path("feeds/agency/<int:pk>/", feeds.AgencyFeed(), name="feed-agency"),
    path("complaints/<str:tracking_code>/rate/", views.complaint_rate_view, name="complaint-rate"),
    path(
        "complaints/<str:tracking_code>/reopen/",
        views.complaint_reopen_view,
        name="complaint-reopen",
    ),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("track/", views.track, name="track"),
    path("track/phone/", phone.phone_follow, name="phone-follow"),
    path("k/<str:tracking_code>", phone.short, name="short-link"),
    path("messages/<str:channel>/inbound/", phone.webhook, name="message-webhook"),
    path("data-saya/", mydata.my_data, name="my-data"),
    path("data-saya/unduh.json", mydata.my_data_json, name="my-data-json"),
    path("data-saya/koreksi/", mydata.my_data_correct, name="my-data-correct"),
    path("data-saya/hapus/", mydata.my_data_erase, name="my-data-erase"),
    path("privasi/", views.privacy, name="privacy"),
]
