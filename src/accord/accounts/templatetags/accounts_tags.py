"""Template filters of accounts: who may administer an account, and scope labels."""

from __future__ import annotations

from typing import Any

from django import template

from accord.accounts.actions import may_administer as _may_administer
from accord.accounts.models import ApiScope, User
from accord.core.actors import Actor

register = template.Library()


@register.filter
def may_administer(actor: Any, target_user: Any) -> bool:
    """Whether the viewer may unlock, disable, enable, reset or set the password of the
    account (the same rule the actions enforce)."""
    if not isinstance(actor, Actor) or not isinstance(target_user, User):
        return False
    if actor.user_id is None:
        return False
    return _may_administer(target_user, actor)


@register.filter
def scope_label(scope: str) -> str:
    """The human name of an API scope code ("directory:read" → "Read the directory")."""
    return str(dict(ApiScope.choices).get(scope, scope))
