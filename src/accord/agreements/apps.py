from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "accord.agreements"
    label = "agreements"

    def ready(self) -> None:
        from accord.agreements.live import live_terms
        from accord.policy.engine import register_term_source

        register_term_source(live_terms)
