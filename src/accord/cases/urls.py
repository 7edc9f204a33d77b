"""Addresses of the case pages, mounted at /cases/."""

from django.urls import path

from accord.cases.views import cases, clients, privileged, records, work

app_name = "cases"
urlpatterns = [
    path("", cases.case_list, name="case-list"),
    path("<int:pk>/", cases.case_detail, name="case-detail"),
    path("<int:pk>/edit/", cases.case_edit, name="case-edit"),
    path("<int:pk>/close/", cases.case_close, name="case-close"),
    path("<int:pk>/charges/new/", records.charge_new, name="charge-new"),
    path("charges/<int:pk>/", records.charge_edit, name="charge-edit"),
    path("<int:pk>/events/new/", records.event_new, name="event-new"),
    path("events/<int:pk>/", records.event_edit, name="event-edit"),
    path("events/<int:pk>/outcome/", records.event_outcome, name="event-outcome"),
    path("<int:pk>/parties/new/", records.party_new, name="party-new"),
    path("parties/<int:pk>/", records.party_edit, name="party-edit"),
    path("parties/<int:pk>/remove/", records.party_remove, name="party-remove"),
    path("<int:pk>/team/new/", records.assignment_new, name="assignment-new"),
    path("team/<int:pk>/end/", records.assignment_end, name="assignment-end"),
    path("<int:pk>/ticklers/new/", records.tickler_new, name="tickler-new"),
    path("<int:pk>/notes/new/", privileged.note_new, name="note-new"),
    path("notes/<int:pk>/", privileged.note_edit, name="note-edit"),
    path("<int:pk>/documents/new/", privileged.document_new, name="document-new"),
    path("documents/<int:pk>/", privileged.document_download, name="document-download"),
    path("<int:pk>/conflicts/recheck/", privileged.conflicts_recheck, name="conflicts-recheck"),
    path("<int:pk>/conflicts/<int:hit_pk>/", privileged.hit_decide, name="hit-decide"),
    path("clients/", clients.client_list, name="client-list"),
    path("clients/new/", clients.client_new, name="client-new"),
    path("clients/<int:pk>/", clients.client_detail, name="client-detail"),
    path("clients/<int:pk>/edit/", clients.client_edit, name="client-edit"),
    path("clients/<int:client_pk>/open/", cases.case_new, name="case-new"),
    path("clients/<int:pk>/custody/", clients.custody_new, name="custody-new"),
    path("custody/<int:pk>/release/", clients.custody_release, name="custody-release"),
    path("ticklers/", work.tickler_list, name="tickler-list"),
    path("ticklers/<int:pk>/complete/", work.tickler_complete, name="tickler-complete"),
    path("ticklers/<int:pk>/dismiss/", work.tickler_dismiss, name="tickler-dismiss"),
    path("rules/", work.rule_list, name="rule-list"),
    path("rules/new/", work.rule_form, name="rule-new"),
    path("rules/<int:pk>/", work.rule_form, name="rule-edit"),
    path("calendar/", work.calendar, name="calendar"),
    path("calendar/feed/", work.feed_create, name="feed-create"),
    path("calendar/feed/revoke/", work.feed_revoke, name="feed-revoke"),
]
