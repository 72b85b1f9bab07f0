from django.urls import path

from . import views

urlpatterns = [
    path("rankings/", views.rankings, name="rankings"),
    path("rankings/staff/", views.ranking_staff, name="ranking-staff"),
    path("rankings/staff/import/", views.ranking_import, name="ranking-import"),
    path("rankings/staff/what-if/", views.ranking_what_if, name="ranking-what-if"),
    path("rankings/<int:year>/", views.ranking_year, name="ranking-year"),
    path("rankings/<int:year>/csv/", views.ranking_csv, name="ranking-csv"),
    path("rankings/<int:year>/csv/excel/", views.ranking_csv_excel, name="ranking-csv-excel"),
    path("rankings/<int:year>/xlsx/", views.ranking_xlsx, name="ranking-xlsx"),
    path("rankings/<int:year>/report/", views.ranking_report, name="ranking-report"),
    path("rankings/<int:year>/report/pdf/", views.ranking_report_pdf, name="ranking-report-pdf"),
    path("rankings/staff/plans/<int:year>/", views.ranking_plans, name="ranking-plans"),
    path(
        "rankings/staff/plans/<int:year>/<str:code>/",
        views.ranking_plan_edit,
        name="ranking-plan-edit",
    ),
    path(
        "rankings/<int:year>/regions/<str:code>/",
        views.region_figures,
        name="ranking-region",
    ),
]
