"""Addresses of the directory pages, mounted at /directory/."""

from django.urls import path

from accord.directory import views

app_name = "directory"
urlpatterns = [
    path("", views.agency_list, name="agency-list"),
    path("agencies/new/", views.agency_create, name="agency-create"),
    path("agencies/<int:pk>/", views.agency_detail, name="agency-detail"),
    path("agencies/<int:pk>/edit/", views.agency_edit, name="agency-edit"),
    path("agencies/<int:pk>/suspend/", views.agency_suspend, name="agency-suspend"),
    path("agencies/<int:pk>/reinstate/", views.agency_reinstate, name="agency-reinstate"),
    path("agencies/<int:pk>/units/new/", views.unit_create, name="unit-create"),
    path("units/<int:pk>/edit/", views.unit_edit, name="unit-edit"),
    path("staff/", views.staff_list, name="staff-list"),
    path("staff/new/", views.staff_add, name="staff-add"),
    path("staff/<int:pk>/", views.staff_detail, name="staff-detail"),
    path("staff/<int:pk>/edit/", views.staff_edit, name="staff-edit"),
]
