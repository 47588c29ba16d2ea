"""Who may do what in review: the one authorization table for the console and the review API.

Both front ends call `authorize` before they read or change anything, and the console
calls `may` (the same decision, without raising) only to show or hide buttons, so the
two can never disagree. The rules:

- PERMISSIONS names, per action, the console roles that may do it.
- OWN_ONLY names roles that may do an action only on exports they requested
  themselves (`requested_by == user.name`): a requester views and downloads their own
  exports, and sees only those in lists (`visible`). Another of the user's roles may
  lift that: a requester who is also an auditor views every export.
- approve and reject also need a different person from the requester and from every
  reviewer who changed the review (`reviewers`): four eyes, not two.
- A disabled account may do nothing.

    action         roles                                    also
    list_exports   all five                                 lists filtered by `visible`
    create_export  requester administrator
    view_export    reviewer approver auditor administrator  requester: own only
    view_original  reviewer approver                        (unmasked proxy frames)
    review         reviewer
    approve        approver                                 not the requester or a reviewer
    reject         approver                                 not the requester or a reviewer
    download       approver administrator                   requester: own only
    view_ledger    auditor approver administrator
    manage_users   administrator
    open_case      requester reviewer administrator       (provision and access requests)
    view_case      reviewer approver auditor administrator  requester: own only
    sign_case      reviewer                                 the person in charge (담당)
    decide_case    approver                                 not who signed it (과장)
    view_register  auditor approver administrator           the register and its files
    review_access  auditor administrator                    the monthly access-log review
    hold           approver administrator                   holds on recordings

Refusals are PolicyDenied, naming the action, the roles that may and the user's roles.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from redactor.errors import PolicyDenied
from redactor.review.users import ROLES, User

Action = Literal[
    "list_exports",
    "create_export",
    "view_export",
    "view_original",
    "review",
    "approve",
    "reject",
    "download",
    "view_ledger",
    "manage_users",
    "open_case",
    "view_case",
    "sign_case",
    "decide_case",
    "view_register",
    "review_access",
    "hold",
]

_ALL = frozenset(ROLES)
PERMISSIONS: dict[Action, frozenset[str]] = {
    "list_exports": _ALL,
    "create_export": frozenset({"requester", "administrator"}),
    "view_export": frozenset({"requester", "reviewer", "approver", "auditor", "administrator"}),
    "view_original": frozenset({"reviewer", "approver"}),
    "review": frozenset({"reviewer"}),
    "approve": frozenset({"approver"}),
    "reject": frozenset({"approver"}),
    "download": frozenset({"requester", "approver", "administrator"}),
    "view_ledger": frozenset({"auditor", "approver", "administrator"}),
    "manage_users": frozenset({"administrator"}),
    "open_case": frozenset({"requester", "reviewer", "administrator"}),
    "view_case": frozenset({"requester", "reviewer", "approver", "auditor", "administrator"}),
    "sign_case": frozenset({"reviewer"}),
    "decide_case": frozenset({"approver"}),
    "view_register": frozenset({"auditor", "approver", "administrator"}),
    "review_access": frozenset({"auditor", "administrator"}),
    "hold": frozenset({"approver", "administrator"}),
}
# action -> roles in PERMISSIONS[action] that reach only exports the user requested.
OWN_ONLY: dict[Action, frozenset[str]] = {
    "view_export": frozenset({"requester"}),
    "download": frozenset({"requester"}),
    "view_case": frozenset({"requester"}),
}
# Actions that need a person other than the requester and the reviewers.
FOUR_EYES: frozenset[Action] = frozenset({"approve", "reject", "decide_case"})


def authorize(
    user: User, action: Action, *, requested_by: str = "", reviewers: Collection[str] = ()
) -> None:
    """Returns where `user` may do `action` on an export requested by `requested_by` and
    reviewed by `reviewers`; raises PolicyDenied saying why not otherwise."""
    if user.disabled:
        raise PolicyDenied(f"{user.name}'s account is disabled; a disabled account may do nothing")
    allowed = PERMISSIONS[action]  # KeyError for an action not in the table: a bug, not a user
    held = allowed & user.roles
    if not held:
        raise PolicyDenied(
            f"{action} needs role {_either(allowed)}; {user.name} has {_roles(user.roles)}"
        )
    own_only = OWN_ONLY.get(action, frozenset())
    if held <= own_only and requested_by != user.name:
        whose = f"{requested_by} requested it" if requested_by else "its requester is not known"
        raise PolicyDenied(
            f"{action} of an export requested by someone else needs role "
            f"{_either(allowed - own_only)}; {user.name} has {_roles(user.roles)}, which "
            f"reach only their own exports, and {whose}"
        )
    if action in FOUR_EYES:
        if user.name == requested_by:
            _four_eyes(user, "requested")
        if user.name in reviewers:
            _four_eyes(user, "reviewed")


def may(
    user: User, action: Action, *, requested_by: str = "", reviewers: Collection[str] = ()
) -> bool:
    """`authorize` without raising: for showing or hiding a button, never for deciding."""
    try:
        authorize(user, action, requested_by=requested_by, reviewers=reviewers)
    except PolicyDenied:
        return False
    return True


def visible(user: User, requested_by: str) -> bool:
    """Whether an export requested by `requested_by` appears in `user`'s lists: exactly
    where they may open it (a requester sees their own only)."""
    return may(user, "list_exports") and may(user, "view_export", requested_by=requested_by)


def _four_eyes(user: User, did: str) -> None:
    raise PolicyDenied(
        "the approver must be a different person from the requester and the reviewers "
        f"(or, for a case, whoever opened or signed it); {user.name} {did} it"
    )


def _either(roles: frozenset[str]) -> str:
    names = [r for r in ROLES if r in roles]  # in the order of the work, not alphabetical
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _roles(roles: frozenset[str]) -> str:
    if not roles:
        return "no roles"
    return "roles " + ", ".join([r for r in ROLES if r in roles] + sorted(roles - set(ROLES)))
