"""Pages of the exchange: the inbox and one notification, subscriptions, notification
preferences, and the dead letters an agency administrator can replay."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accord.core.access import access_object
from accord.core.errors import AccordError, NotFound, PermissionDenied
from accord.directory.forms import show_errors
from accord.directory.models import Agency
from accord.exchange import actions, sms
from accord.exchange.forms import (
    FeedUploadForm,
    InboxFilterForm,
    PreferenceForm,
    SubscriptionForm,
    WebhookForm,
)
from accord.exchange.importer import import_events, rows_of
from accord.exchange.models import (
    DeliveryStatus,
    Notification,
    NotificationPreference,
    Subscription,
    TextMessage,
    WebhookDelivery,
    WebhookEndpoint,
)
from accord.people.models import PersonRecord
from accord.policy.vocabulary import purpose_label
from accord.policy.web import actor_of, errors_as_pages, paginate


def _inbox(actor: Any) -> Any:
    return Notification.objects.visible_to(actor).filter(
        recipient_id=actor.user_id, delivered_at__isnull=False
    )


@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    filters = InboxFilterForm(request.GET or None)
    rows = _inbox(actor).select_related("event__event_type", "event__source_agency")
    searching = False
    if filters.is_valid():
        data = filters.cleaned_data
        if data["q"]:
            rows = rows.filter(
                Q(event__event_type__title__icontains=data["q"])
                | Q(event__source_agency__name__icontains=data["q"])
                | Q(event__case_reference__icontains=data["q"])
            )
        if data["unread"]:
            rows = rows.filter(read_at__isnull=True)
        searching = bool(data["q"] or data["unread"])
    page, numbers = paginate(request, rows.order_by("-delivered_at", "-pk"))
    return render(
        request,
        "exchange/inbox.html",
        {
            "filters": filters,
            "page": page,
            "page_numbers": numbers,
            "searching": searching,
            "unread": _inbox(actor).filter(read_at__isnull=True).count(),
        },
    )


@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    count = actions.mark_read(list(_inbox(actor).filter(read_at__isnull=True)), actor=actor)
    messages.success(request, f"{count} notification(s) marked read.")
    return HttpResponseRedirect(reverse("exchange:inbox"))


@require_GET
@errors_as_pages
def notification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    rows = _inbox(actor).select_related("event__event_type", "event__source_agency")
    notification: Notification = access_object(rows, actor, pk)
    if notification.read_at is None:
        actions.mark_read([notification], actor=actor)
    fields = [
        (key.replace("_", " "), ", ".join(map(str, value)) if isinstance(value, list) else value)
        for key, value in notification.event.payload.items()
        if key not in ("subject", "case_reference")
    ]
    subject = notification.event.payload.get("subject", {})
    return render(
        request,
        "exchange/notification_detail.html",
        {
            "n": notification,
            "event": notification.event,
            "fields": fields,
            "subject": subject,
            "purpose": purpose_label(notification.purpose),
        },
    )


@require_http_methods(["GET", "POST"])
def subscriptions(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form = SubscriptionForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record = None
            if data["person_record"]:
                record = access_object(PersonRecord.objects, actor, data["person_record"])
            actions.subscribe(
                actor=actor,
                person_record=record,
                case_reference=data["case_reference"],
                event_types=data["event_types"],
                purpose=data["purpose"],
            )
        except AccordError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, "Subscribed.")
            return HttpResponseRedirect(reverse("exchange:subscriptions"))
    rows = Subscription.objects.visible_to(actor).select_related("subscriber")
    page, numbers = paginate(request, rows.order_by("ended_at", "-started_at", "-pk"))
    return render(
        request,
        "exchange/subscriptions.html",
        {
            "form": form,
            "page": page,
            "page_numbers": numbers,
            "agency_kind": actor.attributes.get("agency_kind", ""),
        },
        status=422 if form.errors else 200,
    )


@require_POST
@errors_as_pages
def end_subscription(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    sub = access_object(Subscription.objects, actor, pk)
    actions.end_subscription(sub, "ended by hand", actor=actor)
    messages.success(request, "Subscription ended.")
    return HttpResponseRedirect(reverse("exchange:subscriptions"))


@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    current = NotificationPreference.objects.filter(user_id=actor.user_id or 0).first()
    initial = (
        {
            "email_mode": current.email_mode,
            "digest_hour": current.digest_hour,
            "quiet_from": current.quiet_from,
            "quiet_until": current.quiet_until,
            "phone": current.phone,
            "sms_custody": current.sms_custody,
        }
        if current
        else {}
    )
    form = PreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.set_preferences(actor=actor, **form.cleaned_data)
        except AccordError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, "Preferences saved.")
            return HttpResponseRedirect(reverse("exchange:preferences"))
    return render(
        request,
        "exchange/preferences.html",
        {"form": form, "time_zone": settings.TIME_ZONE, "sms_on": sms.get_backend() is not None},
        status=422 if form.errors else 200,
    )


def _require_admin(actor: Any) -> None:
    if actor.scopes is not None or not actor.has_role("agency_admin"):
        raise PermissionDenied("Agency administrators see dead letters.")


@require_GET
@errors_as_pages
def dead_letters(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    _require_admin(actor)
    rows = (
        Notification.objects.visible_to(actor)
        .filter(agency_id=actor.agency_id, status=DeliveryStatus.DEAD)
        .select_related("event__event_type", "recipient")
    )
    page, numbers = paginate(request, rows.order_by("-created_at", "-pk"))
    hooks = (
        WebhookDelivery.objects.filter(
            endpoint__agency_id=actor.agency_id or 0, status=DeliveryStatus.DEAD
        )
        .select_related("event__event_type", "endpoint")
        .order_by("-created_at", "-pk")[:100]
    )
    texts = (
        TextMessage.objects.of_own_agency(actor)
        .filter(status=DeliveryStatus.DEAD)
        .select_related("notification__event__event_type", "notification__recipient")
        .order_by("-claimed_at", "-pk")[:100]
    )
    return render(
        request,
        "exchange/dead_letters.html",
        {"page": page, "page_numbers": numbers, "hooks": hooks, "texts": texts},
    )


@require_POST
@errors_as_pages
def replay_text(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a dead text message again (agency administrators)."""
    actor = actor_of(request)
    _require_admin(actor)
    rows = TextMessage.objects.of_own_agency(actor).select_related("notification")
    text = access_object(rows, actor, pk)
    try:
        actions.replay_text(text, actor=actor)
    except AccordError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, "The text goes to the worker again.")
    return HttpResponseRedirect(reverse("exchange:dead-letters"))


@require_POST
@errors_as_pages
def replay_webhook(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    _require_admin(actor)
    rows = WebhookDelivery.objects.filter(endpoint__agency_id=actor.agency_id or 0).select_related(
        "endpoint"
    )
    delivery = rows.filter(pk=pk).first()
    if delivery is None:
        raise NotFound(f"No webhook delivery {pk}.")
    try:
        actions.replay_webhook(delivery, actor=actor)
    except AccordError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, "Sent to the worker again.")
    return HttpResponseRedirect(reverse("exchange:dead-letters"))


@require_POST
@errors_as_pages
def replay(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    _require_admin(actor)
    rows = Notification.objects.visible_to(actor).filter(agency_id=actor.agency_id)
    notification = access_object(rows, actor, pk)
    try:
        actions.replay(notification, actor=actor)
    except AccordError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, "Sent to the worker again.")
    return HttpResponseRedirect(reverse("exchange:dead-letters"))


MAX_UPLOAD = 5 * 1024 * 1024
MAX_ROWS = 2000


@require_http_methods(["GET", "POST"])
@errors_as_pages
def upload_feed(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if actor.agency_id is None or not actor.roles & (actions.SUBSCRIBER_ROLES | {"agency_admin"}):
        raise PermissionDenied("Your role does not send events.")
    form = FeedUploadForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            form.add_error("file", "The file is larger than 5 MB; use accord import events.")
        else:
            fmt = form.cleaned_data["format"]  # the form resolves it from the file name
            text = ""
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                form.add_error("file", "The file is not UTF-8 text.")
            rows = list(rows_of(io.StringIO(text, newline=""), fmt)) if text else []
            # Rows are ingested while the page waits: bigger feeds go to the command.
            if len(rows) > MAX_ROWS:
                form.add_error("file", f"More than {MAX_ROWS} rows; use accord import events.")
            elif text:
                agency = Agency.objects.get(pk=actor.agency_id)
                report = import_events(rows, agency, actor=actor)
    return render(
        request,
        "exchange/upload.html",
        {"form": form, "report": report},
        status=422 if form.errors else 200,
    )


# --- webhook endpoints (agency administrators) ------------------------------------------------


def _require_webhook_admin(actor: Any) -> int:
    """The administrator's agency id (403 for anyone else)."""
    agency_id: int | None = actor.agency_id
    if actor.scopes is not None or not actor.has_role("agency_admin") or agency_id is None:
        raise PermissionDenied("Agency administrators manage their agency's webhooks.")
    return agency_id


def _show_secret(request: HttpRequest, endpoint: WebhookEndpoint, secret: str) -> HttpResponse:
    """The page that shows a new secret, once: it is never stored in the clear or shown again."""
    return render(request, "exchange/webhook_secret.html", {"endpoint": endpoint, "secret": secret})


@require_http_methods(["GET", "POST"])
@errors_as_pages
def webhooks(request: HttpRequest) -> HttpResponse:
    """The agency's endpoints and a form to register one; the secret is shown once."""
    actor = actor_of(request)
    agency_id = _require_webhook_admin(actor)
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            endpoint, secret = actions.create_webhook(
                Agency.objects.get(pk=agency_id),
                data["url"],
                data["purpose"],
                data["event_types"],
                actor=actor,
            )
        except AccordError as exc:
            show_errors(form, exc)
        else:
            return _show_secret(request, endpoint, secret)
    rows = WebhookEndpoint.objects.filter(agency_id=agency_id)
    page, numbers = paginate(request, rows.order_by("disabled_at", "-created_at", "-pk"))
    return render(
        request,
        "exchange/webhooks.html",
        {"form": form, "page": page, "page_numbers": numbers, "now": timezone.now()},
        status=422 if form.errors else 200,
    )


def _endpoint(actor: Any, pk: int) -> WebhookEndpoint:
    agency_id = _require_webhook_admin(actor)
    endpoint: WebhookEndpoint | None = WebhookEndpoint.objects.filter(
        agency_id=agency_id, pk=pk
    ).first()
    if endpoint is None:
        raise NotFound(f"No webhook {pk}.")
    return endpoint


@require_POST
@errors_as_pages
def rotate_webhook(request: HttpRequest, pk: int) -> HttpResponse:
    """A new secret for an endpoint; the old one keeps signing for a day."""
    actor = actor_of(request)
    endpoint = _endpoint(actor, pk)
    if endpoint.disabled_at is not None:
        messages.error(request, "This endpoint is disabled; register a new one instead.")
        return HttpResponseRedirect(reverse("exchange:webhooks"))
    secret = actions.rotate_webhook_secret(endpoint, actor=actor)
    return _show_secret(request, endpoint, secret)


@require_POST
@errors_as_pages
def disable_webhook(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    actions.disable_webhook(_endpoint(actor, pk), actor=actor)
    messages.success(request, "Endpoint disabled: nothing more is sent to it.")
    return HttpResponseRedirect(reverse("exchange:webhooks"))
