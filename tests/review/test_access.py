"""The one authorization table, row by row against an expected table written out here (not
derived from PERMISSIONS), and the rules beside it: own exports, four eyes, disabled accounts."""

from __future__ import annotations

from typing import get_args

import pytest

from redactor.errors import PolicyDenied
from redactor.review.access import PERMISSIONS, Action, authorize, may, visible
from redactor.review.users import ROLES, User

# action -> role -> on whose export a user with only that role may act:
# "all" = anyone's, "own" = their own only, "other" = someone else's only, absent = none.
EXPECTED: dict[str, dict[str, str]] = {
    "list_exports": {r: "all" for r in ROLES},
    "create_export": {"requester": "all", "administrator": "all"},
    "view_export": {
        "requester": "own",
        "reviewer": "all",
        "approver": "all",
        "auditor": "all",
        "administrator": "all",
    },
    "view_original": {"reviewer": "all", "approver": "all"},
    "review": {"reviewer": "all"},
    "approve": {"approver": "other"},
    "reject": {"approver": "other"},
    "download": {"requester": "own", "approver": "all", "administrator": "all"},
    "view_ledger": {"auditor": "all", "approver": "all", "administrator": "all"},
    "manage_users": {"administrator": "all"},
    "open_case": {"requester": "all", "reviewer": "all", "administrator": "all"},
    "view_case": {
        "requester": "own",
        "reviewer": "all",
        "approver": "all",
        "auditor": "all",
        "administrator": "all",
    },
    "sign_case": {"reviewer": "all"},
    "decide_case": {"approver": "other"},
    "view_register": {"auditor": "all", "approver": "all", "administrator": "all"},
    "review_access": {"auditor": "all", "administrator": "all"},
    "hold": {"approver": "all", "administrator": "all"},
}
ROWS = [(action, role, EXPECTED[action].get(role, "")) for action in EXPECTED for role in ROLES]


def test_the_table_covers_every_action() -> None:
    assert set(EXPECTED) == set(get_args(Action)) == set(PERMISSIONS)
    assert set(ROLES) == {"requester", "reviewer", "approver", "auditor", "administrator"}


@pytest.mark.parametrize(("action", "role", "where"), ROWS)
def test_row(action: Action, role: str, where: str) -> None:
    alice = User("alice", frozenset({role}))
    for requested_by, allowed in [
        ("alice", where in ("all", "own")),
        ("bob", where in ("all", "other")),
    ]:
        assert may(alice, action, requested_by=requested_by) is allowed, (
            action,
            role,
            requested_by,
        )
        if allowed:
            authorize(alice, action, requested_by=requested_by)
        else:
            with pytest.raises(PolicyDenied, match=action if where != "other" else "alice"):
                authorize(alice, action, requested_by=requested_by)


def test_role_messages_name_the_action_the_roles_and_the_user() -> None:
    alice = User("alice", frozenset({"reviewer"}))
    with pytest.raises(PolicyDenied) as e:
        authorize(alice, "approve", requested_by="bob")
    assert str(e.value) == "approve needs role approver; alice has roles reviewer"
    with pytest.raises(PolicyDenied) as e:
        authorize(alice, "download", requested_by="bob")
    assert str(e.value) == (
        "download needs role requester, approver or administrator; alice has roles reviewer"
    )
    with pytest.raises(
        PolicyDenied, match="manage_users needs role administrator; eve has no roles"
    ):
        authorize(User("eve", frozenset()), "manage_users")
    both = User("both", frozenset({"approver", "requester"}))
    with pytest.raises(PolicyDenied, match="has roles requester, approver$"):
        authorize(both, "review")


def test_requester_sees_and_downloads_only_their_own() -> None:
    rita = User("rita", frozenset({"requester"}))
    assert visible(rita, "rita") and not visible(rita, "rex")
    assert may(rita, "view_export", requested_by="rita")
    with pytest.raises(PolicyDenied) as e:
        authorize(rita, "view_export", requested_by="rex")
    assert str(e.value) == (
        "view_export of an export requested by someone else needs role reviewer, approver, "
        "auditor or administrator; rita has roles requester, which reach only their own "
        "exports, and rex requested it"
    )
    with pytest.raises(PolicyDenied, match="download .* approver or administrator.*rex"):
        authorize(rita, "download", requested_by="rex")
    # an unknown requester is nobody's own export
    with pytest.raises(PolicyDenied, match="its requester is not known"):
        authorize(rita, "view_export")
    assert not visible(rita, "")


def test_a_second_role_lifts_own_only_where_it_grants_the_action() -> None:
    ra = User("ra", frozenset({"requester", "auditor"}))
    assert visible(ra, "rex") and may(ra, "view_export", requested_by="rex")
    assert may(ra, "download", requested_by="ra")
    assert not may(ra, "download", requested_by="rex")  # auditors do not download


def test_everyone_else_lists_every_export() -> None:
    for role in ROLES[1:]:
        u = User("u", frozenset({role}))
        assert visible(u, "rex") and visible(u, "u") and visible(u, ""), role


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_approver_must_not_have_reviewed_or_requested(action: Action) -> None:
    both = User("both", frozenset({"reviewer", "approver"}))
    authorize(both, "review", requested_by="rita")
    authorize(both, action, requested_by="rita", reviewers=["rob"])
    with pytest.raises(PolicyDenied) as e:
        authorize(both, action, requested_by="rita", reviewers=["rob", "both"])
    assert str(e.value) == (
        "the approver must be a different person from the requester and the reviewers "
        "(or, for a case, whoever opened or signed it); both reviewed it"
    )
    assert not may(both, action, requested_by="rita", reviewers={"both"})
    ann = User("ann", frozenset({"approver", "requester"}))
    with pytest.raises(PolicyDenied) as e:
        authorize(ann, action, requested_by="ann", reviewers=["rob"])
    assert str(e.value).endswith("; ann requested it")
    authorize(ann, action, requested_by="rita", reviewers=("rob",))


def test_reviewers_do_not_limit_other_actions() -> None:
    rob = User("rob", frozenset({"reviewer"}))
    authorize(rob, "review", requested_by="rita", reviewers=["rob"])
    authorize(rob, "view_original", requested_by="rita", reviewers=["rob"])


@pytest.mark.parametrize("action", list(get_args(Action)))
def test_disabled_users_may_do_nothing(action: Action) -> None:
    root = User("root", frozenset(ROLES), disabled=True)
    assert not may(root, action, requested_by="root")
    with pytest.raises(PolicyDenied, match="root's account is disabled"):
        authorize(root, action, requested_by="bob")
    assert not visible(root, "root")
    assert may(User("root", frozenset(ROLES)), "list_exports")  # only the flag differs
