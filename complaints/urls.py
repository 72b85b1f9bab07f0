from django.urls import include, path

from . import accounts, dashboard, views

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
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/queue/", dashboard.queue, name="dashboard-queue"),
    path("dashboard/queue/export.csv", dashboard.queue_export, name="dashboard-export"),
    path("dashboard/triage/", dashboard.triage, name="dashboard-triage"),
    path("dashboard/intake/", dashboard.intake, name="dashboard-intake"),
    path("dashboard/figures/", dashboard.figures, name="dashboard-figures"),
    path("complaints/<str:tracking_code>/act/", dashboard.complaint_act, name="complaint-act"),
]

urlpatterns += [
    path("accounts/password_reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("accounts/register/", accounts.register, name="register"),
    path("accounts/verify/<str:token>/", accounts.verify_email, name="verify-email"),
    path("accounts/verify-again/", accounts.resend_verification, name="verify-again"),
    path("accounts/complaints/", accounts.my_complaints, name="my-complaints"),
    path("accounts/complaints/claim/", accounts.claim_complaints, name="claim-complaints"),
    path(
        "complaints/<str:tracking_code>/claim/",
        accounts.claim_by_private_link,
        name="complaint-claim",
    ),
]
