from django.shortcuts import render

from agencies.demo import demo_accounts_visible


def home(request):
    return render(request, "home.html", {"demo_accounts": demo_accounts_visible()})
