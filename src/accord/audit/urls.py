from django.urls import path

from accord.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.event_list, name="event-list"),
    path("events/<int:seq>/", views.event_detail, name="event-detail"),
    path("export.csv", views.export_csv, name="event-export"),
    path("verify", views.verify, name="verify"),
]
