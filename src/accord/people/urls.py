"""Addresses of the people pages, mounted at /people/."""

from django.urls import path

from accord.people import views

app_name = "people"
urlpatterns = [
    path("", views.record_list, name="record-list"),
    path("records/<int:pk>/", views.record_detail, name="record-detail"),
    path("records/<int:pk>/split/", views.record_split, name="record-split"),
    path("reviews/", views.review_list, name="review-list"),
    path("reviews/<int:pk>/", views.review_detail, name="review-detail"),
    path("merges/<int:pk>/undo/", views.merge_undo, name="merge-undo"),
    path("conflicts/", views.check_list, name="check-list"),
    path("conflicts/new/", views.check_new, name="check-new"),
    path("conflicts/<int:pk>/", views.check_detail, name="check-detail"),
    path("conflicts/<int:pk>/hits.csv", views.check_csv, name="check-csv"),
    path("conflicts/hits/<int:pk>/decide/", views.hit_decide, name="hit-decide"),
]
