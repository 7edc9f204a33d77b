"""Accounts: people who sign in, how they prove it, their sessions, and agency API tokens."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django_otp.models import Device
from django_otp.oath import TOTP

from accord.core import crypto
from accord.core.access import RestrictedQuerySet
from accord.core.actions import ProtectedModel, ProtectedQuerySet
from accord.core.actors import Actor

if TYPE_CHECKING:
    from accord.directory.models import StaffProfile


class ProtectedUserManager(UserManager["User"]):
    def get_queryset(self) -> models.QuerySet[User]:
        return ProtectedQuerySet(self.model, using=self._db)


class User(ProtectedModel, AbstractUser):
    """A person who signs in. Their agency, roles and attributes live on ``staff``."""

    locked_at = models.DateTimeField(null=True, blank=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    is_demo = models.BooleanField(default=False)

    objects = ProtectedUserManager()  # type: ignore[misc]

    if TYPE_CHECKING:
        staff: StaffProfile

    class Meta:
        swappable = "AUTH_USER_MODEL"
        verbose_name = "user"
        ordering = ["last_name", "first_name", "username"]

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def profile(self) -> StaffProfile | None:
        try:
            return self.staff
        except models.ObjectDoesNotExist:
            return None


class SignInFailure(models.Model):
    """A failed password or second-factor attempt, counted for lockout (CJIS 5.5.3).
    Keyed by the name typed, so attempts on names that do not exist count the same."""

    username = models.CharField(max_length=150, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    source_ip = models.CharField(max_length=45, blank=True, default="")
    stage = models.CharField(max_length=16, default="password")

    def __str__(self) -> str:
        return f"{self.username} at {self.at:%Y-%m-%d %H:%M}"


class UserSessionQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> UserSessionQuerySet:
        if actor.is_system:
            return self
        return self.filter(user_id=actor.user_id)

    def live(self) -> UserSessionQuerySet:
        """Not ended, not idle past the limit, not older than the absolute limit. An idle
        session simply lapses (its cookie expires) without a request to record it."""
        now = timezone.now()
        # last_seen_at is refreshed at most once a minute (accounts.middleware): allow that.
        idle = timedelta(seconds=settings.SESSION_IDLE_SECONDS + 60)
        absolute = timedelta(seconds=settings.SESSION_ABSOLUTE_SECONDS)
        return self.filter(
            ended_at__isnull=True, last_seen_at__gte=now - idle, created_at__gte=now - absolute
        )


class UserSession(ProtectedModel):
    """One signed-in browser session, so a person can see and end their own sessions."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    source_ip = models.CharField(max_length=45, blank=True, default="")
    user_agent = models.CharField(max_length=300, blank=True, default="")
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True, default="")

    objects = UserSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"session of {self.user} from {self.source_ip}"


class BannerAcknowledgement(ProtectedModel):
    """A record that a person accepted the system-use notice (CJIS 5.5.4) before use."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="acknowledgements")
    at = models.DateTimeField(default=timezone.now)
    banner_sha256 = models.CharField(max_length=64)
    source_ip = models.CharField(max_length=45, blank=True, default="")
    session_key_hash = models.CharField(max_length=64, blank=True, default="")

    objects = RestrictedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.user} acknowledged at {self.at:%Y-%m-%d %H:%M}"


class AuthenticatorDevice(ProtectedModel, Device):  # type: ignore[misc]
    """A TOTP authenticator (RFC 6238) whose shared secret is encrypted at rest."""

    encrypted_key = models.BinaryField()
    last_t = models.BigIntegerField(default=-1)
    step = 30
    digits = 6
    tolerance = 1

    def _aad(self) -> str:
        return f"accounts.authenticator:{self.user_id}"

    def set_key(self, key: bytes) -> None:
        self.encrypted_key = crypto.encrypt(key, self._aad())

    @property
    def bin_key(self) -> bytes:
        return crypto.decrypt(bytes(self.encrypted_key), self._aad())

    def totp(self) -> TOTP:
        return TOTP(self.bin_key, self.step, 0, self.digits, 0)

    def current_code(self) -> str:
        return f"{self.totp().token():0{self.digits}d}"

    def verify_token(self, token: Any) -> bool:
        """True once per time step: a code that was used before is refused (replay)."""
        try:
            code = int(str(token).strip())
        except ValueError:
            return False
        totp = self.totp()
        for offset in range(-self.tolerance, self.tolerance + 1):
            totp.drift = offset
            if totp.t() > self.last_t and totp.token() == code:
                self.last_t = totp.t()
                self.save(update_fields=["last_t"])
                return True
        return False


class RecoveryCode(ProtectedModel):
    """A single-use code for signing in without the authenticator; stored hashed."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"recovery code of {self.user}"

    @staticmethod
    def hash(code: str) -> str:
        normalized = code.replace("-", "").replace(" ", "").strip().lower()
        return hashlib.sha256(normalized.encode()).hexdigest()


class ApiScope(models.TextChoices):
    """What an agency system may do with a token. Stable codes."""

    DIRECTORY_READ = "directory:read", "Read the directory"
    DIRECTORY_WRITE = "directory:write", "Change the directory"
    AUDIT_READ = "audit:read", "Read the agency's audit log"
    EVENTS_WRITE = "events:write", "Post events"
    EVENTS_READ = "events:read", "Read events the agency is entitled to"
    POLICY_DECIDE = "policy:decide", "Ask the policy decision point (explain, decide)"
    RECORDS_READ = "records:read", "Read client records the agency may see"
    RECORDS_WRITE = "records:write", "Register the agency's client records"
    DISCLOSURES_READ = "disclosures:read", "Read the accounting of disclosures"
    CONSENTS_WRITE = "consents:write", "Record and revoke client consents"
    SCREENS_MANAGE = "screens:manage", "Manage ethical screens"
    AGREEMENTS_READ = "agreements:read", "Read the agency's agreements"
    CASES_READ = "cases:read", "Read the defender's cases (never privileged material)"
    CASES_WRITE = "cases:write", "Change the defender's cases"
    PEOPLE_READ = "people:read", "Read the agency's person records"
    PEOPLE_WRITE = "people:write", "Register the agency's person records"
    CONFLICTS_CHECK = "conflicts:check", "Run conflict checks"


class ApiTokenQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> ApiTokenQuerySet:
        """Agency admins see their agency's tokens; coordinators see all."""
        if actor.is_system or (actor.scopes is None and actor.has_role("coordinator")):
            return self
        if actor.scopes is None and actor.has_role("agency_admin"):
            return self.filter(agency_id=actor.agency_id)
        return self.none()

    def usable(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiToken(ProtectedModel):
    """A credential for one agency's system: shown once, stored as a SHA-256 hash,
    limited to named scopes, expiring and revocable."""

    agency = models.ForeignKey(
        "directory.Agency", on_delete=models.PROTECT, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
