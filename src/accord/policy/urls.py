from django.urls import path

from accord.policy import views

app_name = "policy"
urlpatterns = [
    path("", views.record_list, name="record-list"),
    path("records/new", views.record_create, name="record-create"),
    path("explain", views.explain, name="explain"),
    path("disclosures", views.disclosure_list, name="disclosure-list"),
    path("disclosures/<str:client_key>", views.accounting, name="accounting"),
    path("screens", views.screen_list, name="screen-list"),
    path("screens/<int:pk>/lift", views.screen_lift, name="screen-lift"),
    path("rules", views.overview, name="overview"),
]
