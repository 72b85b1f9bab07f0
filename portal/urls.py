from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("complaints/", views.complaint_list, name="complaint-list"),
    path("complaints/new/", views.complaint_new, name="complaint-new"),
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
    path("complaints/<str:tracking_code>/rate/", views.complaint_rate_view, name="complaint-rate"),
    path(
        "complaints/<str:tracking_code>/reopen/",
        views.complaint_reopen_view,
        name="complaint-reopen",
    ),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("track/", views.track, name="track"),
]
