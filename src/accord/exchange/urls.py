from django.urls import path

from accord.exchange import views

app_name = "exchange"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("read-all", views.mark_all_read, name="read-all"),
    path("notifications/<int:pk>", views.notification_detail, name="notification"),
    path("subscriptions", views.subscriptions, name="subscriptions"),
    path("subscriptions/<int:pk>/end", views.end_subscription, name="end-subscription"),
    path("preferences", views.preferences, name="preferences"),
    path("upload", views.upload_feed, name="upload"),
    path("dead-letters", views.dead_letters, name="dead-letters"),
    path("webhooks", views.webhooks, name="webhooks"),
    path("webhooks/<int:pk>/rotate", views.rotate_webhook, name="rotate-webhook"),
    path("webhooks/<int:pk>/disable", views.disable_webhook, name="disable-webhook"),
    path("dead-letters/<int:pk>/replay", views.replay, name="replay"),
    path("dead-letters/webhooks/<int:pk>/replay", views.replay_webhook, name="replay-webhook"),
    path("dead-letters/texts/<int:pk>/replay", views.replay_text, name="replay-text"),
]
