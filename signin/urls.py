from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("login/code/", views.sign_in_code, name="signin-code"),
    path("two-factor/", views.two_factor, name="two-factor"),
    path("two-factor/policy/", views.policy, name="signin-policy"),
]
