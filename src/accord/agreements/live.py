"""What the decision point reads from agreements: the sharing terms of every fully signed
version that has not been superseded, ended or withdrawn, and the window in which each
version is in force. Registered with the engine in ``apps.ready``.

A signed version's window runs from its effective date to its expiry date, or to the day
before a signed successor takes effect, whichever is first: an amendment supersedes the
old version on the day it comes into force, with no manual step and no overlap.
"""

from __future__ import annotations

from datetime import timedelta

from accord.agreements.models import AgreementStatus, AgreementVersion, SharingTerm, VersionStatus
from accord.policy.cedar import AgreementWindow, TermSpec

LIVE_VERSION_STATUSES = (VersionStatus.SIGNED, VersionStatus.ACTIVE)


def windows_for(versions: list[AgreementVersion]) -> list[AgreementWindow]:
    by_agreement: dict[int, list[AgreementVersion]] = {}
    for version in versions:
        by_agreement.setdefault(version.agreement_id, []).append(version)
    windows = []
    for group in by_agreement.values():
        group.sort(key=lambda v: v.number)
        for index, version in enumerate(group):
            ends_on = version.expires_on
            later = [v for v in group[index + 1 :] if v.effective_on > version.effective_on]
            if later:
                ends_on = min(ends_on, later[0].effective_on - timedelta(days=1))
            if group[index + 1 :] and not later:
                # A successor effective on or before this one's start replaces it entirely.
                continue
            windows.append(
                AgreementWindow(
                    version_id=version.pk,
                    agreement_id=version.agreement_id,
                    reference=version.agreement.reference,
                    effective_on=version.effective_on,
                    ends_on=ends_on,
                )
            )
    return windows


def live_terms() -> tuple[list[TermSpec], list[AgreementWindow]]:
    versions = list(
        AgreementVersion.objects.filter(status__in=LIVE_VERSION_STATUSES)
        .exclude(agreement__status=AgreementStatus.TERMINATED)
        .select_related("agreement")
    )
    windows = windows_for(versions)
    live_ids = {w.version_id for w in windows}
    terms = (
        SharingTerm.objects.filter(version_id__in=live_ids)
        .select_related("version__agreement", "discloser", "recipient")
        .order_by("pk")
    )
    return [t.spec() for t in terms], windows
