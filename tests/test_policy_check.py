"""The rehearsal's static evaluation of a stage role's IAM policy."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.rehearsal.policy import (
    StageAccess,
    evaluate,
    matches,
    parse_policy,
)
from tests.rehearsal.settings import StageSettings

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "zappa_settings.json"
STAGES = sorted(json.loads(SETTINGS.read_text()))
DEV = StageAccess(
    region="us-east-1",
    account_id="123456789012",
    table="books-dev",
    function_name="bookapi-dev",
    other_tables=["books-prod"],
)


def dev_policy() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (ROOT / "deploy" / "policies" / "dev.json").read_text()
    )
    return document


def statement(document: dict[str, Any], sid: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in document["Statement"] if s["Sid"] == sid)
    return found


def problems_of(document: dict[str, Any]) -> list[str]:
    return DEV.problems(parse_policy(document))


@pytest.mark.parametrize("stage", STAGES)
def test_stage_policy_passes(stage: str) -> None:
    settings = StageSettings.load(SETTINGS, stage)
    path = settings.policy_path()
    assert path is not None

    assert settings.access().problems(parse_policy(path.read_text())) == []


def test_resource_widened_to_star_fails() -> None:
    document = dev_policy()
    statement(document, "BooksTable")["Resource"] = "*"

    problems = problems_of(document)

    assert any(
        "allows dynamodb:GetItem on arn:aws:dynamodb:us-east-1:123456789012:"
        "table/books-prod, but books-prod is another table" in p
        for p in problems
    )


def test_table_prefix_wildcard_fails() -> None:
    document = dev_policy()
    statement(document, "BooksTable")["Resource"] = (
        "arn:aws:dynamodb:us-east-1:*:table/books-dev*"
    )

    problems = problems_of(document)

    assert any("books-dev-archive is another table" in p for p in problems)


def test_dynamodb_wildcard_action_fails() -> None:
    document = dev_policy()
    statement(document, "BooksTable")["Action"] = "dynamodb:*"

    problems = problems_of(document)

    assert any(
        p.startswith("allows dynamodb:DeleteTable on")
        and p.endswith("the app does not use it")
        for p in problems
    )


def test_missing_app_action_fails() -> None:
    document = dev_policy()
    statement(document, "BooksTable")["Action"] = ["dynamodb:GetItem"]

    problems = problems_of(document)

    assert any(p.startswith("misses dynamodb:UpdateItem") for p in problems)


def test_missing_self_invoke_fails() -> None:
    document = dev_policy()
    document["Statement"] = [
        s for s in document["Statement"] if s["Sid"] != "ApiGatewayInvokesFunction"
    ]

    problems = problems_of(document)

    assert any(
        p.startswith("misses lambda:InvokeFunction") and "API Gateway" in p
        for p in problems
    )


def test_all_actions_on_everything_fails() -> None:
    document = dev_policy()
    document["Statement"].append({"Effect": "Allow", "Action": "*", "Resource": "*"})

    problems = problems_of(document)

    assert any("rehearsalprobe:AnyAction" in p for p in problems)


def test_not_action_statement_fails() -> None:
    document = dev_policy()
    document["Statement"].append(
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
    )

    problems = problems_of(document)

    assert any("NotAction" in p for p in problems)


def test_explicit_deny_wins() -> None:
    document = copy.deepcopy(dev_policy())
    document["Statement"].append(
        {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"}
    )
    statements = parse_policy(document)

    assert not evaluate(statements, "dynamodb:DeleteItem", DEV.table_arn("books-dev"))
    assert evaluate(statements, "dynamodb:GetItem", DEV.table_arn("books-dev"))


def test_actions_match_without_case() -> None:
    assert matches("DynamoDB:getitem", "dynamodb:GetItem", ignore_case=True)


def test_resources_match_with_case() -> None:
    assert not matches(
        "arn:aws:dynamodb:*:*:table/Books",
        "arn:aws:dynamodb:x:y:table/books",
        ignore_case=False,
    )


def test_question_mark_matches_one_character() -> None:
    assert matches("table/books-?ev", "table/books-dev", ignore_case=False)
    assert not matches("table/books-?ev", "table/books-ddev", ignore_case=False)


def test_single_statement_object_is_parsed() -> None:
    statements = parse_policy(
        {"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}
    )

    assert evaluate(statements, "s3:GetObject", "arn:aws:s3:::b/k")
