"""Every change to accounts: sign-in steps, lockout, sessions, authenticators and tokens.

Sign-in follows the CJIS Security Policy (5.5.3 lockout after 5 failures, 5.5.4 the
system-use notification, 5.5.5 session limits, 5.6.2.2 multi-factor) and OWASP ASVS L2.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django_otp import login as otp_login

from accord.accounts.banner import BANNER_SHA256
from accord.accounts.models import (
    ApiScope,
    ApiToken,
    AuthenticatorDevice,
    BannerAcknowledgement,
    RecoveryCode,
    SignInFailure,
    User,
    UserSession,
)
from accord.audit.chain import append as audit
from accord.audit.codes import AuditAction, Outcome
from accord.core import crypto
from accord.core.actions import action
from accord.core.actors import Actor
from accord.core.errors import ActionRefused, InvalidInput, PermissionDenied

SESSION_AUTH_AT = "accord_auth_at"
SESSION_BANNER = "accord_banner_ack"
SESSION_REAUTH_AT = "accord_reauth_at"
SESSION_PENDING_DEVICE = "accord_pending_device"
RECOVERY_CODE_COUNT = 10
TOKEN_MAX_DAYS = 366


class SignInResult(enum.Enum):
    NEEDS_SECOND_FACTOR = "needs_second_factor"
    NEEDS_ENROLMENT = "needs_enrolment"
    REFUSED = "refused"
    LOCKED = "locked"


def _agency_of(user: User) -> int | None:
    profile = user.profile
    return profile.agency_id if profile else None


# A name without an account that reached the threshold stays "locked" like a real account
# (until an administrator would have unlocked it), so waiting out the window does not tell
# whether the account exists.
NAME_LOCKED_STAGE = "name_locked"
# Stages that are the first factor: counted as failed sign-ins, the others as failed MFA.
PASSWORD_STAGES = frozenset({"password", "locked"})


def _recent_failures(username: str) -> int:
    since = timezone.now() - timedelta(seconds=settings.LOCKOUT_WINDOW_SECONDS)
    return SignInFailure.objects.filter(username__iexact=username, at__gte=since).count()


def _record_failure(
    username: str, user: User | None, stage: str, actor: Actor, base_url: str = ""
) -> bool:
    """Count one failure; lock the account at the threshold. True if now locked.
    ``base_url`` (the site's address) makes the link in the administrators' e-mail absolute."""
    SignInFailure.objects.create(
        username=username[:150], source_ip=actor.source_ip or "", stage=stage
    )
    audit(
        actor,
        AuditAction.SIGN_IN_FAILED if stage in PASSWORD_STAGES else AuditAction.MFA_FAILED,
        obj=user,
        outcome=Outcome.FAILURE,
        agency_id=_agency_of(user) if user else None,
        details={"username": username[:150], "stage": stage},
    )
    if _recent_failures(username) < settings.LOCKOUT_THRESHOLD:
        return False
    if user is None and not _name_locked(username):
        SignInFailure.objects.create(
            username=username[:150], source_ip=actor.source_ip or "", stage=NAME_LOCKED_STAGE
        )
    if user is not None and not user.is_locked:
        from accord.accounts.tasks import send_lockout_notice

        user.locked_at = timezone.now()
        user.save(update_fields=["locked_at"])
        audit(actor, AuditAction.LOCKED_OUT, obj=user, agency_id=_agency_of(user))
        # Enqueued in this transaction: the notice exists exactly when the lock does.
        send_lockout_notice.enqueue(
            user_id=user.pk, locked_at=user.locked_at.isoformat(), base_url=base_url
        )
    return True


def _name_locked(username: str) -> bool:
    return SignInFailure.objects.filter(username__iexact=username, stage=NAME_LOCKED_STAGE).exists()


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def is_locked_out(username: str, user: User | None) -> bool:
    # A name with no account "locks" the same way, so the answer never tells whether an
    # account exists.
    if user is not None:
        return user.is_locked
    return _name_locked(username) or _recent_failures(username) >= settings.LOCKOUT_THRESHOLD


@action
def sign_in_with_password(
    request: HttpRequest, username: str, password: str, *, actor: Actor
) -> SignInResult:
    """First factor. On success the session is half signed in: only the second-factor
    (or enrolment) step may follow."""
    username = username.strip()
    user = User.objects.filter(username__iexact=username).first()
    if is_locked_out(username, user):
        _record_failure(username, user, "locked", actor, _base_url(request))
        return SignInResult.LOCKED
    authenticated = auth.authenticate(request, username=username, password=password)
    if authenticated is None or not isinstance(authenticated, User):
        # Disabled accounts also land here: the same refusal as a wrong password.
        locked = _record_failure(username, user, "password", actor, _base_url(request))
        return SignInResult.LOCKED if locked else SignInResult.REFUSED
    auth.login(request, authenticated, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SESSION_AUTH_AT] = timezone.now().timestamp()
    has_device = AuthenticatorDevice.objects.filter(user=authenticated, confirmed=True).exists()
    return SignInResult.NEEDS_SECOND_FACTOR if has_device else SignInResult.NEEDS_ENROLMENT


def _start_session(request: HttpRequest, user: User, device: Any, actor: Actor) -> None:
    otp_login(request, device)
    if request.session.session_key is None:
        request.session.save()
    UserSession.objects.create(
        user=user,
        session_key=str(request.session.session_key),
        source_ip=actor.source_ip or "",
        user_agent=request.headers.get("User-Agent", "")[:300],
    )
    audit(actor, AuditAction.SIGN_IN, obj=user, agency_id=_agency_of(user))


@action
def verify_second_factor(request: HttpRequest, code: str, *, actor: Actor) -> SignInResult | None:
    """Second factor: a TOTP code, or one unused recovery code. None means signed in."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("Sign in with your password first.")
    if user.is_locked:
        auth.logout(request)
        return SignInResult.LOCKED
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return SignInResult.NEEDS_ENROLMENT
    cleaned = code.strip().replace(" ", "")
    if cleaned.isdigit() and len(cleaned) == device.digits:
        if device.verify_token(cleaned):
            _start_session(request, user, device, actor)
            audit(actor, AuditAction.MFA_VERIFIED, obj=user, agency_id=_agency_of(user))
            return None
    else:
        recovery = RecoveryCode.objects.filter(
            user=user, used_at__isnull=True, code_sha256=RecoveryCode.hash(cleaned)
        ).first()
        if recovery is not None:
            recovery.used_at = timezone.now()
            recovery.save(update_fields=["used_at"])
            _start_session(request, user, device, actor)
            audit(actor, AuditAction.RECOVERY_CODE_USED, obj=user, agency_id=_agency_of(user))
            return None
    if _record_failure(user.username, user, "second_factor", actor, _base_url(request)):
        auth.logout(request)
        return SignInResult.LOCKED
    return SignInResult.REFUSED


@action
def begin_enrolment(user: User, *, actor: Actor) -> AuthenticatorDevice:
    """A new, unconfirmed authenticator with a fresh 160-bit secret (RFC 4226 4, R6)."""
    if actor.user_id != user.pk:
        raise PermissionDenied("Only the person signing in can enrol their authenticator.")
    # Someone holding only the password must not swap in an authenticator of their own:
    # a confirmed one is replaced only after an administrator resets it.
    if AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists():
        raise ActionRefused("This account already has an authenticator.")
    AuthenticatorDevice.objects.filter(user=user, confirmed=False).delete()
    device = AuthenticatorDevice(user=user, name="Authenticator app", confirmed=False)
    device.set_key(secrets.token_bytes(20))
    device.save()
    return device


def _issue_recovery_codes(user: User, actor: Actor) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5)
        codes.append(f"{raw[:5]}-{raw[5:]}")
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_sha256=RecoveryCode.hash(c)) for c in codes
    )
    audit(actor, AuditAction.RECOVERY_CODES_ISSUED, obj=user, agency_id=_agency_of(user))
    return codes


@action
def confirm_enrolment(
    request: HttpRequest, device: AuthenticatorDevice, code: str, *, actor: Actor
) -> list[str] | SignInResult:
    """Confirm the authenticator with its first code; returns the recovery codes, shown once.
    REFUSED means the code was wrong, LOCKED that this failure locked the account (returned,
    not raised, so the failure and the lock commit)."""
    user = request.user
    if not isinstance(user, User) or device.user_id != user.pk or device.confirmed:
        raise PermissionDenied("This enrolment does not belong to this sign-in.")
    if AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists():
        raise ActionRefused("This account already has an authenticator.")
    if user.is_locked:
        auth.logout(request)
        return SignInResult.LOCKED
    if not device.verify_token(code):
        if _record_failure(user.username, user, "enrolment", actor, _base_url(request)):
            auth.logout(request)
            return SignInResult.LOCKED
        return SignInResult.REFUSED
    AuthenticatorDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit(actor, AuditAction.MFA_ENROLLED, obj=user, agency_id=_agency_of(user))
    codes = _issue_recovery_codes(user, actor)
    _start_session(request, user, device, actor)
    return codes


@action
def regenerate_recovery_codes(user: User, *, actor: Actor) -> list[str]:
    if actor.user_id != user.pk:
        raise PermissionDenied("Only the account holder can renew their recovery codes.")
    return _issue_recovery_codes(user, actor)


@action
def acknowledge_banner(request: HttpRequest, *, actor: Actor) -> BannerAcknowledgement:
    """Record acceptance of the system-use notification for this session (CJIS 5.5.4)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("Sign in first.")
    key = request.session.session_key or ""
    ack = BannerAcknowledgement.objects.create(
        user=user,
        banner_sha256=BANNER_SHA256,
        source_ip=actor.source_ip or "",
        session_key_hash=hashlib.sha256(key.encode()).hexdigest(),
    )
    request.session[SESSION_BANNER] = BANNER_SHA256
    audit(
        actor,
        AuditAction.BANNER_ACKNOWLEDGED,
        obj=user,
        agency_id=_agency_of(user),
        details={"banner_sha256": BANNER_SHA256},
    )
    return ack


@action
def reauthenticate(request: HttpRequest, password: str, code: str, *, actor: Actor) -> bool:
    """Fresh proof (password and second factor) before a privileged action."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("Sign in first.")
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first()
    ok = user.check_password(password) and device is not None and device.verify_token(code)
    if not ok:
        audit(actor, AuditAction.REAUTH_FAILED, obj=user, outcome=Outcome.FAILURE)
        if _record_failure(user.username, user, "reauth", actor, _base_url(request)):
            end_all_sessions_of(user, "locked", actor)
            # This request's session row is gone too; log out so it is not saved again.
            auth.logout(request)
        return False
    request.session[SESSION_REAUTH_AT] = timezone.now().timestamp()
    audit(actor, AuditAction.REAUTHENTICATED, obj=user, agency_id=_agency_of(user))
    return True


def recently_authenticated(request: HttpRequest) -> bool:
    at = request.session.get(SESSION_REAUTH_AT)
    if not at:
        return False
    return bool(timezone.now().timestamp() - float(at) < settings.REAUTH_SECONDS)


@action
def sign_out(request: HttpRequest, *, actor: Actor) -> None:
    key = request.session.session_key
    if key:
        UserSession.objects.filter(session_key=key, ended_at__isnull=True).update(
            ended_at=timezone.now(), end_reason="signed_out"
        )
    if isinstance(request.user, User):
        audit(actor, AuditAction.SIGN_OUT, obj=request.user, agency_id=_agency_of(request.user))
    auth.logout(request)


def _end(record: UserSession, reason: str) -> None:
    SessionStore(session_key=record.session_key).delete()
    record.ended_at = timezone.now()
    record.end_reason = reason
    record.save(update_fields=["ended_at", "end_reason"])


def end_all_sessions_of(user: User, reason: str, actor: Actor) -> int:
    """End every live session of ``user`` (called inside actions)."""
    live = list(UserSession.objects.filter(user=user).live())
    for record in live:
        _end(record, reason)
    return len(live)


@action
def end_session(record: UserSession, *, actor: Actor) -> None:
    """A person ends one of their own sessions (e.g. a browser left signed in elsewhere)."""
    if record.user_id != actor.user_id:
        raise PermissionDenied("You can end only your own sessions.")
    if record.ended_at is not None:
        raise ActionRefused("That session has already ended.")
    _end(record, "ended_by_user")
    audit(actor, AuditAction.SESSION_ENDED, obj=record.user, details={"session": record.pk})


@action
def expire_session(request: HttpRequest, reason: str, *, actor: Actor) -> None:
    """The session reached its absolute limit, or was ended elsewhere."""
    key = request.session.session_key
    if key:
        UserSession.objects.filter(session_key=key, ended_at__isnull=True).update(
            ended_at=timezone.now(), end_reason=reason
        )
    if isinstance(request.user, User):
        audit(actor, AuditAction.SESSION_EXPIRED, obj=request.user, details={"reason": reason})
    auth.logout(request)


@action
def note_session_activity(session_key: str, *, actor: Actor) -> None:
    UserSession.objects.filter(session_key=session_key, ended_at__isnull=True).update(
        last_seen_at=timezone.now()
    )


def _require_admin_of(user: User, actor: Actor) -> None:
    if actor.is_system or actor.has_role("coordinator"):
        return
    if actor.has_role("agency_admin") and _agency_of(user) == actor.agency_id:
        profile = user.profile
        # An agency administrator who could set a coordinator's password could act with
        # the coordinator's partnership-wide powers: only a coordinator manages one.
        if profile is not None and "coordinator" in profile.roles:
            raise PermissionDenied("Only a coordinator can manage a coordinator's account.")
        return
    raise PermissionDenied("Only an administrator of this person's agency can do this.")


def may_administer(user: User, actor: Actor) -> bool:
    """Whether ``actor`` may unlock, disable, enable or reset ``user``'s account."""
    try:
        _require_admin_of(user, actor)
    except PermissionDenied:
        return False
    return True


@action
def unlock_account(user: User, *, actor: Actor) -> None:
    _require_admin_of(user, actor)
    if not user.is_locked:
        raise ActionRefused("This account is not locked.")
    user.locked_at = None
    user.save(update_fields=["locked_at"])
    SignInFailure.objects.filter(username__iexact=user.username).delete()
    audit(actor, AuditAction.UNLOCKED, obj=user, agency_id=_agency_of(user))


@action
def disable_account(user: User, *, actor: Actor) -> int:
    """Disable an account and end all its sessions at once. Returns sessions ended."""
    _require_admin_of(user, actor)
    if user.pk == actor.user_id:
        raise ActionRefused("You cannot disable your own account.")
    user.is_active = False
    user.save(update_fields=["is_active"])
    ended = end_all_sessions_of(user, "account_disabled", actor)
    audit(
        actor,
        AuditAction.ACCOUNT_DISABLED,
        obj=user,
        agency_id=_agency_of(user),
        details={"sessions_ended": ended},
    )
    return ended


@action
def enable_account(user: User, *, actor: Actor) -> None:
    _require_admin_of(user, actor)
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit(actor, AuditAction.ACCOUNT_ENABLED, obj=user, agency_id=_agency_of(user))


@action
def reset_authenticator(user: User, *, actor: Actor) -> None:
    """An admin removes a lost authenticator; the person enrols anew at next sign-in."""
    _require_admin_of(user, actor)
    if user.pk == actor.user_id:
        raise ActionRefused("Ask another administrator to reset your own authenticator.")
    AuthenticatorDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    end_all_sessions_of(user, "authenticator_reset", actor)
    audit(actor, AuditAction.MFA_RESET, obj=user, agency_id=_agency_of(user))


def check_password_rules(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput(
            " ".join(exc.messages),
            errors=[{"field": "password", "reason": m} for m in exc.messages],
        ) from exc


@action
def change_password(
    user: User,
    current: str,
    new: str,
    *,
    actor: Actor,
    request: HttpRequest | None = None,
) -> int:
    """A person changes their own password, proving the current one. With ``request`` this
    browser session stays signed in and every other session ends (OWASP ASVS 3.3.3).
    Returns how many other sessions ended."""
    if actor.user_id != user.pk:
        raise PermissionDenied("Use set_password to set another person's password.")
    if not user.check_password(current):
        raise InvalidInput(
            "The current password is not correct.",
            errors=[{"field": "current_password", "reason": "not correct"}],
        )
    check_password_rules(new, user)
    user.set_password(new)
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "password_changed_at"])
    ended = 0
    if request is not None:
        old_key = request.session.session_key or ""
        # The session carries a hash of the password: refresh it (Django also gives the
        # session a new key) and move this session's record to the new key.
        auth.update_session_auth_hash(request, user)
        request.session.save()
        new_key = str(request.session.session_key)
        UserSession.objects.filter(session_key=old_key).update(session_key=new_key)
        others = UserSession.objects.filter(user=user).live().exclude(session_key=new_key)
        for record in others:
            _end(record, "password_changed")
            ended += 1
    audit(
        actor,
        AuditAction.PASSWORD_CHANGED,
        obj=user,
        agency_id=_agency_of(user),
        details={"other_sessions_ended": ended},
    )
    return ended


@action
def set_password(user: User, new: str, *, actor: Actor) -> None:
    """An administrator sets a password (e.g. a new hire's first one); ends their sessions."""
    _require_admin_of(user, actor)
    if user.pk == actor.user_id:
        raise ActionRefused("Change your own password on the My account page.")
    check_password_rules(new, user)
    user.set_password(new)
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "password_changed_at"])
    end_all_sessions_of(user, "password_set", actor)
    audit(actor, AuditAction.PASSWORD_SET, obj=user, agency_id=_agency_of(user))


# --- API tokens -----------------------------------------------------------------------------


def _token_secret_hash(secret: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough; HMAC binds it to this install.
    return hmac.new(settings.SECRET_KEY.encode(), secret.encode(), hashlib.sha256).hexdigest()


@action
def create_api_token(
    agency: Any,
    name: str,
    scopes: list[str],
    expires_at: datetime,
    *,
    actor: Actor,
) -> tuple[ApiToken, str]:
    """A token for one agency's system. The plain token is returned once and never stored."""
    if not (actor.is_system or actor.has_role("coordinator")) and not (
        actor.has_role("agency_admin") and actor.agency_id == agency.pk
    ):
        raise PermissionDenied("Only an administrator of this agency can create its tokens.")
    errors = []
    name = name.strip()
    if not name:
        errors.append({"field": "name", "reason": "give the token a name"})
    unknown = sorted(set(scopes) - set(ApiScope.values))
    if unknown:
        errors.append({"field": "scopes", "reason": f"unknown scopes: {', '.join(unknown)}"})
    if not scopes:
        errors.append({"field": "scopes", "reason": "choose at least one scope"})
    now = timezone.now()
    if expires_at <= now:
        errors.append({"field": "expires_at", "reason": "must be in the future"})
    elif expires_at > now + timedelta(days=TOKEN_MAX_DAYS):
        errors.append({"field": "expires_at", "reason": f"at most {TOKEN_MAX_DAYS} days ahead"})
    if errors:
        raise InvalidInput("The token cannot be created.", errors=errors)
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        agency=agency,
        name=name,
        prefix=prefix,
        secret_sha256=_token_secret_hash(secret),
        scopes=sorted(set(scopes)),
        created_by_id=actor.user_id,
        expires_at=expires_at,
    )
    audit(
        actor,
        AuditAction.TOKEN_CREATED,
        obj=token,
        agency_id=agency.pk,
        details={"scopes": token.scopes, "expires_at": expires_at.isoformat()},
    )
    return token, f"acc_{prefix}_{secret}"


@action
def revoke_api_token(token: ApiToken, *, actor: Actor) -> None:
    if not ApiToken.objects.visible_to(actor).filter(pk=token.pk).exists():
        raise PermissionDenied("Only an administrator of this agency can revoke its tokens.")
    if token.revoked_at is not None:
        raise ActionRefused("This token is already revoked.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit(actor, AuditAction.TOKEN_REVOKED, obj=token, agency_id=token.agency_id)


def parse_token(raw: str) -> tuple[str, str] | None:
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != "acc" or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


@action
def authenticate_token(raw: str, *, actor: Actor) -> ApiToken | None:
    """The usable token matching ``raw``, or None (and an audited rejection)."""
    parsed = parse_token(raw)
    token = None
    if parsed is not None:
        prefix, secret = parsed
        candidate: ApiToken | None = (
            ApiToken.objects.select_related("agency").filter(prefix=prefix).first()
        )
        if candidate is not None and hmac.compare_digest(
            candidate.secret_sha256, _token_secret_hash(secret)
        ):
            token = candidate
    if token is None or not token.is_usable or token.agency.is_suspended:
        audit(
            actor,
            AuditAction.TOKEN_REJECTED,
            outcome=Outcome.DENIED,
            agency_id=token.agency_id if token else None,
            details={"prefix": parsed[0][:16] if parsed else ""},
        )
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        token.save(update_fields=["last_used_at"])
    return token


@action
def enrol_demo_authenticator(user: User, *, actor: Actor) -> AuthenticatorDevice:
    """Demo accounts come enrolled, so the sign-in page can show their current codes.
    Never in production: a shown code would be a second factor given away."""
    if settings.PRODUCTION or not user.is_demo:
        raise ActionRefused("Only demo accounts in demo mode are enrolled this way.")
    AuthenticatorDevice.objects.filter(user=user).delete()
    device = AuthenticatorDevice(user=user, name="Demo authenticator", confirmed=True)
    device.set_key(secrets.token_bytes(20))
    device.save()
    audit(
        actor,
        AuditAction.MFA_ENROLLED,
        obj=user,
        agency_id=_agency_of(user),
        details={"demo": True},
    )
    return device


@crypto.register_rotation
@action
def reseal_authenticator_keys(*, actor: Actor) -> int:
    """Re-encrypt authenticator secrets still sealed under an older field key."""
    count = 0
    for device in AuthenticatorDevice.objects.all().iterator():
        if crypto.needs_rotation(bytes(device.encrypted_key)):
            device.set_key(device.bin_key)
            device.save(update_fields=["encrypted_key"])
            count += 1
    return count
