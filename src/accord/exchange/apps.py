from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "accord.exchange"
    label = "exchange"
    verbose_name = "Interagency exchange of events"

    def ready(self) -> None:
        from accord.agreements.measurement import register_source
        from accord.agreements.models import ObligationMeasure
        from accord.exchange.measurement import delivered_events

        register_source(ObligationMeasure.EVENT_DELIVERED, delivered_events)
