from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "accord.people"
    label = "people"
    verbose_name = "People, identity resolution and conflict checks"
