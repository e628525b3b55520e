"""Creating the books table, and adding indexes that an older table lacks."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from bookapi.models import Book

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
WAIT_TIMEOUT_SECONDS = 900.0
EMULATOR_THROUGHPUT = {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}


class IndexNotAdded(RuntimeError):
    """The endpoint did not add a missing index it was asked to add."""


def ensure_table(model: type[Book], report: Callable[[str], None]) -> None:
    """Create the table with its indexes, or add the indexes it is missing.

    Safe to run again and again: it changes only what is missing, and waits
    until the table and every index are active. DynamoDB adds one global
    secondary index per UpdateTable call, so missing indexes are added in turn.
    """
    table = model.Meta.table_name
    if not model.exists():
        model.create_table(wait=True, billing_mode="PAY_PER_REQUEST")
        wait_until_active(model)
        report(f"Created table {table} with indexes {', '.join(index_names(model))}.")
        return

    description = model.describe_table()
    present = {i["IndexName"] for i in description.get("GlobalSecondaryIndexes", [])}
    missing = [name for name in index_names(model) if name not in present]
    if not missing:
        wait_until_active(model)
        report(f"Table {table} already exists with all its indexes.")
        return

    client = model._get_connection().connection.client
    schema = model._get_schema()
    for name in missing:
        index = next(
            i for i in schema["global_secondary_indexes"] if i["index_name"] == name
        )
        report(f"Adding index {name} to table {table}...")
        create = {
            "IndexName": name,
            "KeySchema": index["key_schema"],
            "Projection": index["projection"],
        }
        try:
            add_index(client, table, index["attribute_definitions"], create)
        except ClientError as error:
            # NOTE: dynalite 4.0.0 requires ProvisionedThroughput on a new
            # index even for an on-demand table, where DynamoDB rejects it.
            if "provisionedThroughput" not in str(error):
                raise
            create["ProvisionedThroughput"] = EMULATOR_THROUGHPUT
            add_index(client, table, index["attribute_definitions"], create)
        wait_until_active(model)
        check_index_added(model, name)
    report(f"Table {table} now has indexes {', '.join(index_names(model))}.")


def add_index(
    client: Any, table: str, definitions: list[Any], create: dict[str, Any]
) -> None:
    client.update_table(
        TableName=table,
        AttributeDefinitions=definitions,
        GlobalSecondaryIndexUpdates=[{"Create": create}],
    )


def check_index_added(model: type[Book], name: str) -> None:
    description = model.describe_table()
    present = {i["IndexName"] for i in description.get("GlobalSecondaryIndexes", [])}
    if name not in present:
        # dynalite 4.0.0 accepts the UpdateTable call and ignores it.
        raise IndexNotAdded(
            f"The DynamoDB endpoint accepted adding index {name} to table "
            f"{model.Meta.table_name} but did not add it. It may not support "
            "adding indexes to an existing table: export the books, delete the "
            "table, run create-table again and import them."
        )


def index_names(model: type[Book]) -> list[str]:
    return sorted(model._indexes)


def wait_until_active(model: type[Book]) -> None:
    """Wait until the table and all its indexes are ACTIVE."""
    deadline = time.monotonic() + WAIT_TIMEOUT_SECONDS
    while True:
        description: dict[str, Any] = model.describe_table()
        statuses = [description["TableStatus"]] + [
            index["IndexStatus"]
            for index in description.get("GlobalSecondaryIndexes", [])
        ]
        if all(status == "ACTIVE" for status in statuses):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"Table {model.Meta.table_name} is not active after "
                f"{WAIT_TIMEOUT_SECONDS:.0f} s: {statuses}"
            )
        logger.info("Waiting for table %s: %s", model.Meta.table_name, statuses)
        time.sleep(POLL_SECONDS)
