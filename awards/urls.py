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
    path(
        "rankings/<int:year>/regions/<str:code>/",
        views.region_figures,
        name="ranking-region",
    ),
]
