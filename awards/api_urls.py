from django.urls import path

from .api import RankingView

urlpatterns = [
    path("rankings/<int:year>/", RankingView.as_view(), name="api-ranking"),
]
