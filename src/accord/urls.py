from django.urls import include, path

from accord.core.api import api

urlpatterns = [
    path("", include("accord.core.urls")),
    path("accounts/", include("accord.accounts.urls")),
    path("directory/", include("accord.directory.urls")),
    path("audit/", include("accord.audit.urls")),
    path("api/v1/", api.urls),
]
