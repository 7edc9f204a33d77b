from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "accord.cases"
    label = "cases"
    verbose_name = "Case management of the defender"
