from django.urls import include, path

from accord.core.api import api

urlpatterns = [
    path("", include("accord.core.urls")),
    path("accounts/", include("accord.accounts.urls")),
    path("directory/", include("accord.directory.urls")),
    path("audit/", include("accord.audit.urls")),
    path("policy/", include("accord.policy.urls")),
    path("consents/", include("accord.consent.urls")),
    path("agreements/", include("accord.agreements.urls")),
    path("people/", include("accord.people.urls")),
    path("cases/", include("accord.cases.urls")),
    path("exchange/", include("accord.exchange.urls")),
    path("api/v1/", api.urls),
]

handler404 = "accord.core.views.not_found"
handler403 = "accord.core.views.forbidden"
handler500 = "accord.core.views.server_error"
