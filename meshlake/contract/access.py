"""What a descriptor declares about access: owners, per-port readers and row filters, column classes and masks.

The vocabulary is the Iceberg REST specification's read restrictions: a port may name its `readers`, the
principals that read classified or masked columns `unmasked`, and `row_filters` (a boolean filter for the
principals it names); a column may carry a `classification` and a `mask` action. This module holds the models
and the rules that need only the descriptor (which action applies to which column type); who may do what is
decided in `meshlake.access.rights`.

    outputs:
      - name: daily
        access:
          readers: [group:logistics, group:analytics, product:sales.forecast]   # absent: the mesh default
          unmasked: [group:support]
          row_filters:
            - {principals: [group:analytics], where: "region = 'eu'"}
        columns:
          - {name: customer_email, type: string, classification: pii, mask: mask-alphanum}
          - {name: is_vip, type: boolean, mask: {apply-expression: "tier = 'gold'"}}
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    model_serializer,
    model_validator,
)
from pyiceberg.types import (
    BinaryType,
    DateType,
    IcebergType,
    IntegerType,
    LongType,
    StringType,
    TimestampNanoType,
    TimestampType,
    TimestamptzNanoType,
    TimestamptzType,
)

from meshlake.contract.principals import Principal
from meshlake.errors import InvalidPrincipalError

MaskAction = Literal[
    "mask-alphanum",
    "mask-to-default",
    "replace-with-null",
    "show-first-4",
    "show-last-4",
    "truncate-to-year",
    "truncate-to-month",
    "sha-256-global",
    "sha-256-query-local",
    "apply-expression",
]
MASK_ACTIONS: Final[tuple[MaskAction, ...]] = get_args(MaskAction)
Classification = Literal["public", "internal", "confidential", "pii"]
CLASSIFICATIONS: Final[tuple[Classification, ...]] = get_args(Classification)


def _classification(value: object) -> object:
    if value is not None and value not in CLASSIFICATIONS:
        raise ValueError(f"unknown classification {value!r}; classifications: {', '.join(CLASSIFICATIONS)}")
    return value


ClassificationField = Annotated[Classification, BeforeValidator(_classification)]
"""A column's classification; anything outside `CLASSIFICATIONS` is refused with the list of them."""

_STRING = (StringType,)
_TEMPORAL = (DateType, TimestampType, TimestamptzType, TimestampNanoType, TimestamptzNanoType)
_HASHABLE = (StringType, IntegerType, LongType, BinaryType)
APPLICABLE_TO: Final[dict[MaskAction, tuple[type[IcebergType], ...] | None]] = {
    "mask-alphanum": _STRING,
    "mask-to-default": None,
    "replace-with-null": None,
    "show-first-4": _STRING,
    "show-last-4": _STRING,
    "truncate-to-year": _TEMPORAL,
    "truncate-to-month": _TEMPORAL,
    "sha-256-global": _HASHABLE,
    "sha-256-query-local": _HASHABLE,
    "apply-expression": None,
}
"""The specification's "Applicable to" set of each action (None: every type)."""
_APPLICABLE_TEXT: Final[dict[MaskAction, str]] = {
    "mask-alphanum": "string",
    "show-first-4": "string",
    "show-last-4": "string",
    "truncate-to-year": "date, timestamp, timestamptz",
    "truncate-to-month": "date, timestamp, timestamptz",
    "sha-256-global": "string, int, long, binary",
    "sha-256-query-local": "string, int, long, binary",
}


def mask_problem(action: MaskAction, column_type: IcebergType, *, required: bool) -> str | None:
    """Why `action` cannot mask a column of `column_type` (None when it can), per the specification."""
    allowed = APPLICABLE_TO[action]
    if allowed is not None and not isinstance(column_type, allowed):
        return f"mask '{action}' applies to {_APPLICABLE_TEXT[action]} columns, not {column_type}"
    if action == "replace-with-null" and required:
        return (
            "mask 'replace-with-null' cannot apply to a required column (its values are never NULL); "
            "use mask-to-default"
        )
    return None


class ColumnMask(BaseModel):
    """A column's mask: an action name, or `{apply-expression: "<boolean filter over the row>"}`.

    `apply-expression` replaces the column's values with the expression's result (a BOOLEAN column under
    the same name); every other action keeps the column's type. NULL stays NULL for every action.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: MaskAction
    expression: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, value: Any) -> Any:
        if isinstance(value, ColumnMask):
            return value
        if isinstance(value, str):
            if value == "apply-expression":
                raise ValueError('mask apply-expression needs its expression: mask: {apply-expression: "..."}')
            if value not in MASK_ACTIONS:
                raise ValueError(f"unknown mask action {value!r}; actions: {', '.join(MASK_ACTIONS)}")
            return {"action": value}
        if isinstance(value, dict) and set(value) == {"apply-expression"}:
            expression = value["apply-expression"]
            if not isinstance(expression, str):
                raise ValueError("apply-expression takes a filter expression as text")
            return {"action": "apply-expression", "expression": expression}
        if isinstance(value, dict) and set(value) <= {"action", "expression"}:
            return value
        raise ValueError(
            'a mask is an action name (e.g. mask: mask-alphanum) or {apply-expression: "<boolean expression>"}'
        )

    @model_validator(mode="after")
    def _expression_only_for_apply(self) -> ColumnMask:
        if (self.action == "apply-expression") != (self.expression is not None):
            raise ValueError("only apply-expression takes an expression, and it needs one")
        return self

    @model_serializer
    def _to_yaml(self) -> str | dict[str, str]:
        if self.action == "apply-expression" and self.expression is not None:
            return {"apply-expression": self.expression}
        return self.action

    def __str__(self) -> str:
        return f"apply-expression({self.expression})" if self.expression is not None else self.action


def _principal_validator(*, wildcard: bool) -> Any:
    def parse(value: object) -> Principal:
        try:
            return Principal.parse(value, wildcard=wildcard)
        except InvalidPrincipalError as exc:
            raise ValueError(
                f"invalid principal {exc.text!r}: {exc.reason} (write KIND:NAME, e.g. user:alice, group:analytics, "
                "service:airflow, product:sales.orders)"
            ) from None

    return PlainValidator(parse)


_AS_TEXT = PlainSerializer(str, return_type=str)
PrincipalField = Annotated[Principal, _principal_validator(wildcard=False), _AS_TEXT]
"""A principal in a descriptor or policy list that grants more than reading: `*` is refused."""
GranteeField = Annotated[Principal, _principal_validator(wildcard=True), _AS_TEXT]
"""A principal in a list that grants reading, where `*` (everyone) is allowed."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RowFilterRule(_Model):
    """Rows the named principals see: those where `where` is true (false or NULL rows are dropped)."""

    principals: list[GranteeField] = Field(min_length=1)
    where: str


class PortAccess(_Model):
    """Who reads a port and what they see. Owners and mesh admins always read everything and write."""

    readers: list[GranteeField] | None = None
    """Who may read the port; absent: the mesh policy's `default_readers`; `[]`: only owners and admins."""
    unmasked: list[PrincipalField] = Field(default_factory=list)
    """Principals that read masked and classified columns as they are (still subject to row filters)."""
    row_filters: list[RowFilterRule] = Field(default_factory=list)
    """Filters for the principals they name; several that match one caller are AND-ed."""
    broker_readers: list[GranteeField] | None = None
    """Who can read the port's served stream (`serve: [table, stream]`) on the broker, which meshlake cannot
    check; absent: `*`. The stream carries what every one of them may read: masked columns masked unless all of
    them are `unmasked`, and only the rows that every row filter of the port lets through."""
