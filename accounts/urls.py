"""Everything under /accounts/, in one list: the site's sign-in (lock-out and two-factor)
comes before Django's own auth URLs, which serve sign-out and password reset."""

from django.urls import include, path

from . import signin, views

urlpatterns = [
    path("login/", signin.SignInView.as_view(), name="login"),
    path("login/code/", signin.sign_in_code, name="signin-code"),
    path("two-factor/", signin.two_factor, name="two-factor"),
    path("two-factor/enrol/", signin.two_factor_enrol, name="two-factor-enrol"),
    path("two-factor/policy/", signin.policy, name="signin-policy"),
    path("password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("", include("django.contrib.auth.urls")),
    path("register/", views.register, name="register"),
    path("verify/<str:token>/", views.verify_email, name="verify-email"),
    path("verify-again/", views.resend_verification, name="verify-again"),
    path("complaints/", views.my_complaints, name="my-complaints"),
    path("complaints/claim/", views.claim_complaints, name="claim-complaints"),
]
