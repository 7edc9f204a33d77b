from django.urls import path

from accord.consent import views

app_name = "consent"
urlpatterns = [
    path("", views.consent_list, name="list"),
    path("new", views.consent_create, name="create"),
    path("<int:pk>/", views.consent_detail, name="detail"),
    path("<int:pk>/edit", views.consent_edit, name="edit"),
    path("<int:pk>/activate", views.consent_activate, name="activate"),
    path("<int:pk>/revoke", views.consent_revoke, name="revoke"),
    path("<int:pk>/end", views.consent_end, name="end"),
]
