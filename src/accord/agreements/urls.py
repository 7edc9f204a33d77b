from django.urls import path

from accord.agreements import views

app_name = "agreements"
urlpatterns = [
    path("", views.agreement_list, name="list"),
    path("new", views.agreement_create, name="create"),
    path("compliance", views.compliance_overview, name="compliance"),
    path(
        "breach-alerts/<int:alert_id>/acknowledge",
        views.acknowledge_alert,
        name="acknowledge-alert",
    ),
    path("<int:pk>/", views.agreement_detail, name="detail"),
    path("<int:pk>/parties", views.parties, name="parties"),
    path("<int:pk>/diff", views.diff, name="diff"),
    path("<int:pk>/terminate", views.terminate, name="terminate"),
    path("<int:pk>/do/<slug:verb>", views.agreement_transition, name="transition"),
    path("<int:pk>/obligations/<int:obligation_id>/attest", views.attest, name="attest"),
    path("<int:pk>/versions/<int:number>/edit", views.version_edit, name="edit"),
    path("<int:pk>/versions/<int:number>/sign", views.sign, name="sign"),
    path("<int:pk>/versions/<int:number>/dry-run", views.version_dry_run, name="dry-run"),
    path(
        "<int:pk>/versions/<int:number>/do/<slug:verb>",
        views.version_transition,
        name="version-transition",
    ),
]
