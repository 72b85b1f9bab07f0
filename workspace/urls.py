from django.urls import path

from . import redaction, views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/queue/", views.queue, name="dashboard-queue"),
    path("dashboard/queue/export.csv", views.queue_export, name="dashboard-export"),
    path("dashboard/triage/", views.triage, name="dashboard-triage"),
    path("dashboard/intake/", views.intake, name="dashboard-intake"),
    path("dashboard/figures/", views.figures, name="dashboard-figures"),
    path("dashboard/templat/", views.response_templates, name="dashboard-templates"),
    path(
        "dashboard/templat/<int:pk>/",
        views.response_template_edit,
        name="dashboard-template-edit",
    ),
    path(
        "dashboard/templat/<int:pk>/hapus/",
        views.response_template_remove,
        name="dashboard-template-remove",
    ),
    path("dashboard/sp4n-lapor/", views.national_exchange, name="dashboard-national"),
    path("dashboard/sp4n-lapor/export/", views.national_export, name="dashboard-national-export"),
    path("complaints/<str:tracking_code>/act/", views.complaint_act, name="complaint-act"),
    path(
        "complaints/<str:tracking_code>/contact/",
        views.complaint_contact,
        name="complaint-contact",
    ),
    path(
        "complaints/<str:tracking_code>/photos/<int:pk>/redact/",
        redaction.photo_redact,
        name="photo-redact",
    ),
    path(
        "complaints/<str:tracking_code>/photos/<int:pk>/original/",
        redaction.photo_original,
        name="photo-original",
    ),
]
