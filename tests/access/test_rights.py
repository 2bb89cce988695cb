"""`decide`: owners, admins, readers, wildcard, groups, mesh defaults, AND-ed row filters, unmasked, masks, writes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from meshlake.access.identity import Identity
from meshlake.access.policy import MeshPolicy
from meshlake.access.rights import Decision, decide, write_grant
from meshlake.contract.access import ColumnMask
from meshlake.contract.descriptor import Descriptor, parse_descriptor
from meshlake.contract.principals import Principal

DESCRIPTOR = parse_descriptor(
    """\
apiVersion: meshlake/v1
domain: sales
name: customers
version: 1.0.0
owner: {team: sales_data, principals: [group:sales, user:alice]}
outputs:
  - name: accounts
    access:
      readers: [group:analytics, group:support, user:dave, product:marketing.campaigns]
      unmasked: [group:support]
      row_filters:
        - {principals: [group:analytics], where: "region = 'eu'"}
        - {principals: [user:dave], where: "active"}
        - {principals: [user:dave, group:analytics], where: "region = 'eu'"}
    columns:
      - {name: customer_id, type: long, required: true}
      - {name: region, type: string}
      - {name: active, type: boolean}
      - {name: email, type: string, classification: pii, mask: mask-alphanum}
      - {name: card, type: string, classification: confidential, mask: show-last-4}
      - {name: is_eu, type: string, mask: {apply-expression: "region = 'eu'"}}
  - name: stats
    columns:
      - {name: region, type: string}
      - {name: email, type: string, classification: pii}
      - {name: phone, type: long, classification: pii}
      - {name: salary, type: double, classification: confidential}
      - {name: tax_id, type: string, required: true, classification: confidential}
      - {name: notes, type: string, classification: internal}
      - {name: day, type: date, classification: public}
  - name: ledger
    access: {readers: []}
    columns:
      - {name: amount, type: double}
  - name: open
    access:
      readers: ["*"]
      row_filters:
        - {principals: ["*"], where: "active"}
    columns:
      - {name: active, type: boolean}
      - {name: email, type: string, classification: pii}
"""
)
POLICY = MeshPolicy.model_validate(
    {
        "admins": ["group:platform", "service:steward"],
        "default_readers": ["*"],
        "classification_masks": {"pii": "mask-alphanum", "confidential": "replace-with-null"},
        "version": 3,
    }
)
EMPLOYEES_ONLY = POLICY.model_copy(update={"default_readers": [Principal.parse("group:employees")]})
ACCOUNT_MASKS = {
    "email": "mask-alphanum",
    "card": "show-last-4",
    "is_eu": "apply-expression(region = 'eu')",
}


def who(principal: str, *groups: str, verified: bool = False) -> Identity:
    return Identity(Principal.parse(principal), frozenset(Principal.parse(f"group:{g}") for g in groups), verified)


@dataclass(frozen=True)
class Case:
    identity: Identity
    port: str
    read: bool
    write: bool
    role: str
    row_filter: tuple[str, ...] | None = None
    masks: dict[str, str] = field(default_factory=dict)
    policy: MeshPolicy | None = POLICY
    descriptor: Descriptor = DESCRIPTOR


CASES = {
    "owner_by_name": Case(who("user:alice"), "accounts", True, True, "owner"),
    "owner_by_group": Case(who("user:zed", "sales"), "accounts", True, True, "owner"),
    "owner_reads_an_owners_only_port": Case(who("user:alice"), "ledger", True, True, "owner"),
    "owner_is_never_filtered_by_a_wildcard_filter": Case(who("user:alice"), "open", True, True, "owner"),
    "admin_by_group": Case(who("user:pat", "platform"), "accounts", True, True, "admin"),
    "admin_by_name": Case(who("service:steward"), "ledger", True, True, "admin"),
    "explicit_owners_replace_the_product_principal": Case(
        who("product:sales.customers"), "accounts", False, False, "none"
    ),
    "reader_by_group_is_filtered_and_masked": Case(
        who("user:ann", "analytics"), "accounts", True, False, "reader", ("region = 'eu'",), ACCOUNT_MASKS
    ),
    "several_matching_filters_are_anded_once_each": Case(
        who("user:dave", "analytics"), "accounts", True, False, "reader", ("region = 'eu'", "active"), ACCOUNT_MASKS
    ),
    "reader_by_name_gets_its_own_filter": Case(
        who("user:dave"), "accounts", True, False, "reader", ("active", "region = 'eu'"), ACCOUNT_MASKS
    ),
    "unmasked_reader_sees_columns_as_they_are": Case(who("user:sam", "support"), "accounts", True, False, "reader"),
    "unmasked_reader_is_still_filtered": Case(
        who("user:sam", "support", "analytics"), "accounts", True, False, "reader", ("region = 'eu'",)
    ),
    "product_reader_is_masked_not_filtered": Case(
        who("product:marketing.campaigns"), "accounts", True, False, "reader", None, ACCOUNT_MASKS
    ),
    "outsider_is_denied": Case(who("user:eve", "marketing"), "accounts", False, False, "none"),
    "groups_of_another_kind_do_not_match_names": Case(who("user:support"), "accounts", False, False, "none"),
    "mesh_default_lets_everyone_read_and_classification_masks_apply": Case(
        who("user:eve"),
        "stats",
        True,
        False,
        "reader",
        None,
        {
            "email": "mask-alphanum",
            "phone": "mask-to-default",
            "salary": "replace-with-null",
            "tax_id": "mask-to-default",
        },
    ),
    "mesh_default_readers_can_be_narrowed": Case(who("user:eve"), "stats", False, False, "none", policy=EMPLOYEES_ONLY),
    "mesh_default_readers_by_group": Case(
        who("user:eve", "employees"),
        "stats",
        True,
        False,
        "reader",
        None,
        {
            "email": "mask-alphanum",
            "phone": "mask-to-default",
            "salary": "replace-with-null",
            "tax_id": "mask-to-default",
        },
        policy=EMPLOYEES_ONLY,
    ),
    "empty_readers_is_owners_only": Case(who("user:ann", "analytics"), "ledger", False, False, "none"),
    "wildcard_readers_and_filter_cover_everyone_else": Case(
        who("user:eve"), "open", True, False, "reader", ("active",), {"email": "mask-alphanum"}
    ),
    "without_a_policy_the_default_rules_are_declared": Case(
        who("user:eve"),
        "stats",
        True,
        False,
        "reader",
        None,
        {"email": "mask-to-default", "phone": "mask-to-default"},
        policy=None,
    ),
    "without_a_policy_owners_still_own": Case(who("user:alice"), "accounts", True, True, "owner", policy=None),
    "without_a_policy_nobody_is_admin": Case(who("user:pat", "platform"), "ledger", False, False, "none", policy=None),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_decide(case: Case) -> None:
    decision = decide(case.identity, case.descriptor, case.port, case.policy)
    assert (decision.read, decision.write, decision.role) == (case.read, case.write, case.role)
    assert (decision.row_filter.clauses if decision.row_filter else None) == case.row_filter
    assert {name: str(mask) for name, mask in decision.masks.items()} == case.masks
    assert decision.level == ("declared" if case.policy is None else "library")
    assert decision.address == f"sales.customers.{case.port}"
    assert (decision.missing_read is None) == case.read
    assert (decision.missing_write is None) == case.write


def test_decision_says_why() -> None:
    assert decide(who("user:zed", "sales"), DESCRIPTOR, "accounts", POLICY).reason == "owner via group:sales"
    assert decide(who("user:pat", "platform"), DESCRIPTOR, "ledger", POLICY).reason == "admin via group:platform"
    assert decide(who("user:ann", "analytics"), DESCRIPTOR, "accounts", POLICY).reason == "reader via group:analytics"
    assert decide(who("user:eve"), DESCRIPTOR, "stats", POLICY).reason == "reader via * (mesh default)"
    denied = decide(who("user:eve"), DESCRIPTOR, "accounts", POLICY)
    assert denied.missing_read is not None and "group:analytics" in denied.missing_read
    assert denied.missing_write is not None and "group:sales, user:alice" in denied.missing_write
    owners_only = decide(who("user:eve"), DESCRIPTOR, "ledger", POLICY)
    assert owners_only.missing_read is not None and "nobody but its owners" in owners_only.missing_read


def test_decision_as_dict_is_plain_data() -> None:
    data = decide(who("user:dave", "analytics"), DESCRIPTOR, "accounts", POLICY).to_dict()
    assert data["principal"] == "user:dave"
    assert data["row_filter"] == ["region = 'eu'", "active"]
    assert data["masks"]["email"] == "mask-alphanum"
    assert data["level"] == "library" and "storage" in data["level_means"]


def test_unrestricted_means_no_filter_and_no_mask() -> None:
    assert decide(who("user:alice"), DESCRIPTOR, "accounts", POLICY).unrestricted
    assert decide(who("user:sam", "support"), DESCRIPTOR, "accounts", POLICY).unrestricted
    assert not decide(who("user:ann", "analytics"), DESCRIPTOR, "accounts", POLICY).unrestricted
    assert not decide(who("user:eve"), DESCRIPTOR, "accounts", POLICY).unrestricted


def test_column_mask_wins_over_the_classification_default() -> None:
    decision = decide(who("user:eve"), DESCRIPTOR, "open", POLICY.model_copy(update={"classification_masks": {}}))
    assert decision.masks == {}
    decision = decide(who("user:ann", "analytics"), DESCRIPTOR, "accounts", POLICY)
    assert decision.masks["card"] == ColumnMask(action="show-last-4")  # not the policy's replace-with-null


def test_write_grant_is_for_owners_and_admins_only() -> None:
    owners = DESCRIPTOR.owners
    assert write_grant(who("user:alice"), owners, POLICY).role == "owner"
    assert write_grant(who("user:x", "platform"), owners, POLICY).role == "admin"
    refused = write_grant(who("user:ann", "analytics"), owners, POLICY)
    assert not refused.allowed and refused.missing is not None and "owners" in refused.missing
    system = write_grant(who("user:alice"), (), POLICY)
    assert not system.allowed and system.missing == "only mesh admins write meshlake's own tables"


def test_decide_is_pure() -> None:
    identity = who("user:dave", "analytics")
    first: Decision = decide(identity, DESCRIPTOR, "accounts", POLICY)
    assert decide(identity, DESCRIPTOR, "accounts", POLICY) == first
