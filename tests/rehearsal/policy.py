"""A static evaluation of a stage role's IAM policy.

The local stand-in does not enforce IAM, so the rehearsal evaluates the
policy itself: ``evaluate`` applies IAM's matching rules (``*`` and ``?``
wildcards, actions without regard to case, an explicit Deny wins) to
(action, resource) probes. ``StageAccess.problems`` then lists what the role
misses of what the app needs, and everything it allows beyond that: any
action on another table, DynamoDB actions the app does not use, other
services.

Conditions are ignored, so a statement counts as allowing whatever its action
and resource match. That can only report more than IAM allows, never less.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

# The DynamoDB operations that bookapi's store calls: get, put (UpdateItem)
# and delete. Conditional writes need no other action.
APP_DYNAMODB_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)

# DynamoDB actions that the role must not have on the stage table, and must
# not have at all on other tables. The last one stands for any action AWS may
# add later, so that "dynamodb:*" is caught.
OTHER_DYNAMODB_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:CreateBackup",
    "dynamodb:CreateTable",
    "dynamodb:DeleteBackup",
    "dynamodb:DeleteTable",
    "dynamodb:DescribeStream",
    "dynamodb:DescribeTable",
    "dynamodb:DescribeTimeToLive",
    "dynamodb:ExportTableToPointInTime",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
    "dynamodb:ListTables",
    "dynamodb:PartiQLDelete",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLSelect",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PutItem",
    "dynamodb:PutResourcePolicy",
    "dynamodb:Query",
    "dynamodb:RestoreTableFromBackup",
    "dynamodb:Scan",
    "dynamodb:TagResource",
    "dynamodb:UpdateContinuousBackups",
    "dynamodb:UpdateTable",
    "dynamodb:UpdateTimeToLive",
    "dynamodb:RehearsalProbeOfAFutureAction",
)

INVOKE_ACTION = "lambda:InvokeFunction"


@dataclass(frozen=True)
class Statement:
    sid: str
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]

    def matches(self, action: str, resource: str) -> bool:
        if self.not_actions:
            action_matches = not any(matches(p, action, True) for p in self.not_actions)
        else:
            action_matches = any(matches(p, action, True) for p in self.actions)
        if self.not_resources:
            resource_matches = not any(
                matches(p, resource, False) for p in self.not_resources
            )
        else:
            resource_matches = any(matches(p, resource, False) for p in self.resources)
        return action_matches and resource_matches


class InvalidPolicy(ValueError):
    """The document is not an IAM policy that this evaluation understands."""


def as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(item) for item in value)


def parse_policy(document: str | dict[str, Any]) -> list[Statement]:
    """Parse an IAM policy document (JSON text or already decoded)."""
    data = json.loads(document) if isinstance(document, str) else document
    raw = data.get("Statement") if isinstance(data, dict) else None
    if raw is None:
        raise InvalidPolicy("the policy has no Statement")
    statements = []
    for index, item in enumerate([raw] if isinstance(raw, dict) else raw):
        effect = item.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise InvalidPolicy(f"statement {index} has Effect {effect!r}")
        statements.append(
            Statement(
                sid=str(item.get("Sid") or f"#{index}"),
                effect=effect,
                actions=as_tuple(item.get("Action")),
                not_actions=as_tuple(item.get("NotAction")),
                resources=as_tuple(item.get("Resource")),
                not_resources=as_tuple(item.get("NotResource")),
            )
        )
    return statements


@cache
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    # IAM wildcards: * is any run of characters (":" and "/" included), ? is
    # one character. fnmatch's [...] sets have no meaning in IAM, so they are
    # escaped first.
    escaped = pattern.replace("[", "[[]")
    flags = re.IGNORECASE if ignore_case else 0
    return re.compile(fnmatch.translate(escaped), flags | re.DOTALL)


def matches(pattern: str, value: str, ignore_case: bool) -> bool:
    return _pattern(pattern, ignore_case).match(value) is not None


def evaluate(statements: Iterable[Statement], action: str, resource: str) -> bool:
    """Return whether the statements allow ``action`` on ``resource``."""
    allowed = False
    for statement in statements:
        if statement.matches(action, resource):
            if statement.effect == "Deny":
                return False
            allowed = True
    return allowed


@dataclass(frozen=True)
class StageAccess:
    """What one stage's function needs, and the resources it must not touch."""

    region: str
    account_id: str
    table: str
    function_name: str
    other_tables: Sequence[str]

    def table_arn(self, table: str) -> str:
        return f"arn:aws:dynamodb:{self.region}:{self.account_id}:table/{table}"

    @property
    def log_group_arn(self) -> str:
        return (
            f"arn:aws:logs:{self.region}:{self.account_id}:log-group:"
            f"/aws/lambda/{self.function_name}"
        )

    @property
    def function_arn(self) -> str:
        return (
            f"arn:aws:lambda:{self.region}:{self.account_id}:function:"
            f"{self.function_name}"
        )

    def required(self) -> list[tuple[str, str, str]]:
        """Return (action, resource, reason) for each permission needed."""
        table = self.table_arn(self.table)
        stream = f"{self.log_group_arn}:log-stream:2026/01/01/[$LATEST]0123456789abcdef"
        return [
            *((action, table, "the app calls it") for action in APP_DYNAMODB_ACTIONS),
            ("logs:CreateLogGroup", self.log_group_arn, "Lambda logs with it"),
            ("logs:CreateLogStream", stream, "Lambda logs with it"),
            ("logs:PutLogEvents", stream, "Lambda logs with it"),
            (
                INVOKE_ACTION,
                self.function_arn,
                "Zappa's API Gateway integration invokes the function as this role",
            ),
        ]

    def forbidden(self) -> list[tuple[str, str, str]]:
        """Return (action, resource, reason) for each permission not allowed."""
        probes: list[tuple[str, str, str]] = []
        own = self.table_arn(self.table)
        for action in OTHER_DYNAMODB_ACTIONS:
            probes.append((action, own, "the app does not use it"))
        probes.append(("dynamodb:ListTables", "*", "the app does not use it"))

        # Tables that only share a prefix with the stage's table, and tables of
        # other stages and of other applications.
        strangers = [
            *self.other_tables,
            f"{self.table}-archive",
            f"{self.table}x",
            "orders",
        ]
        for table in strangers:
            arn = self.table_arn(table)
            for action in (*APP_DYNAMODB_ACTIONS, *OTHER_DYNAMODB_ACTIONS):
                reason = f"{table} is another table"
                probes.append((action, arn, reason))
                probes.append((action, f"{arn}/index/by-name", reason))
                probes.append((action, f"{arn}/stream/2026-01-01T00:00:00.000", reason))

        other_function = self.function_arn + "-other"
        probes += [
            (INVOKE_ACTION, other_function, "it is another function"),
            ("lambda:UpdateFunctionCode", self.function_arn, "only deploys need it"),
            (
                "logs:PutLogEvents",
                self.log_group_arn.replace(self.function_name, "other"),
                "it is another function's log group",
            ),
            ("logs:DeleteLogGroup", self.log_group_arn, "the function never needs it"),
            ("s3:GetObject", "arn:aws:s3:::any-bucket/any-key", "the app needs no S3"),
            (
                "iam:PassRole",
                f"arn:aws:iam::{self.account_id}:role/any",
                "the app needs no IAM",
            ),
            (
                "sts:AssumeRole",
                f"arn:aws:iam::{self.account_id}:role/any",
                "the app needs no STS",
            ),
            ("sqs:SendMessage", "*", "the app needs no SQS"),
            ("secretsmanager:GetSecretValue", "*", "the app reads no secrets"),
            ("kms:Decrypt", "*", "the app decrypts nothing"),
            ("ec2:RunInstances", "*", "the app needs no EC2"),
            ("rehearsalprobe:AnyAction", "*", "it is another service"),
        ]
        return probes

    def problems(self, statements: Sequence[Statement]) -> list[str]:
        """Describe each missing and each excess permission, one per line."""
        found: list[str] = []
        for statement in statements:
            if statement.effect == "Allow" and (
                statement.not_actions or statement.not_resources
            ):
                found.append(
                    f"statement {statement.sid} allows with NotAction or "
                    "NotResource, which allows everything it does not list"
                )
        for action, resource, reason in self.required():
            if not evaluate(statements, action, resource):
                found.append(f"misses {action} on {resource} ({reason})")
        for action, resource, reason in self.forbidden():
            if evaluate(statements, action, resource):
                found.append(f"allows {action} on {resource}, but {reason}")
        return found
