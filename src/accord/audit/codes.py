"""Stable audit action codes (Zulip's AuditLogEventType). Never change a shipped value."""

from django.db import models


class AuditAction(models.TextChoices):
    # sign-in and sessions
    SIGN_IN = "auth.sign_in", "Signed in"
    SIGN_IN_FAILED = "auth.sign_in_failed", "Sign-in failed"
    LOCKED_OUT = "auth.locked_out", "Account locked after failed sign-ins"
    UNLOCKED = "auth.unlocked", "Account unlocked"
    SIGN_OUT = "auth.sign_out", "Signed out"
    MFA_ENROLLED = "auth.mfa_enrolled", "Authenticator enrolled"
    MFA_VERIFIED = "auth.mfa_verified", "Second factor verified"
    MFA_FAILED = "auth.mfa_failed", "Second factor failed"
    RECOVERY_CODE_USED = "auth.recovery_code_used", "Recovery code used"
    RECOVERY_CODES_ISSUED = "auth.recovery_codes_issued", "Recovery codes issued"
    BANNER_ACKNOWLEDGED = "auth.banner_acknowledged", "Logon banner acknowledged"
    REAUTHENTICATED = "auth.reauthenticated", "Re-authenticated"
    REAUTH_FAILED = "auth.reauth_failed", "Re-authentication failed"
    SESSION_ENDED = "auth.session_ended", "Session ended"
    SESSION_EXPIRED = "auth.session_expired", "Session expired"
    PASSWORD_CHANGED = "auth.password_changed", "Password changed"
    PASSWORD_SET = "auth.password_set", "Password set by an administrator"
    MFA_RESET = "auth.mfa_reset", "Authenticator reset by an administrator"
    # accounts and permissions
    ACCOUNT_CREATED = "account.created", "Account created"
    ACCOUNT_DISABLED = "account.disabled", "Account disabled"
    ACCOUNT_ENABLED = "account.enabled", "Account enabled"
    ROLES_CHANGED = "permission.roles_changed", "Roles changed"
    ATTRIBUTES_CHANGED = "permission.attributes_changed", "Staff attributes changed"
    TOKEN_CREATED = "token.created", "API token created"
    TOKEN_REVOKED = "token.revoked", "API token revoked"
    TOKEN_REJECTED = "token.rejected", "API token rejected"
    # directory
    AGENCY_CREATED = "directory.agency_created", "Agency created"
    AGENCY_UPDATED = "directory.agency_updated", "Agency updated"
    AGENCY_SUSPENDED = "directory.agency_suspended", "Agency suspended"
    AGENCY_REINSTATED = "directory.agency_reinstated", "Agency reinstated"
    UNIT_CREATED = "directory.unit_created", "Unit created"
    UNIT_UPDATED = "directory.unit_updated", "Unit updated"
    STAFF_CREATED = "directory.staff_created", "Staff profile created"
    STAFF_UPDATED = "directory.staff_updated", "Staff profile updated"
    # the audit log itself
    AUDIT_VIEWED = "audit.viewed", "Audit log viewed"
    AUDIT_EXPORTED = "audit.exported", "Audit log exported"
    AUDIT_CHECKPOINT = "audit.checkpoint", "Audit checkpoint signed"
    DEMO_SEEDED = "system.demo_seeded", "Demo county seeded"


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"
    DENIED = "denied", "Denied"
