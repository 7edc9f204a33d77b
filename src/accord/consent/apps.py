from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "accord.consent"
    label = "consent"
    verbose_name = "Client consent"

    def ready(self) -> None:
        from accord.consent.sources import consent_exists, consent_facts
        from accord.policy.access import register_consent_sql
        from accord.policy.engine import register_consent_source

        register_consent_source(consent_facts)
        register_consent_sql(consent_exists)
