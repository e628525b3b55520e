"""The peer: the same three requests on Powertools for AWS Lambda's REST
resolver (``APIGatewayRestResolver``), with one boto3 call per request and
the client created at import (Lambda's init)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

TABLE = os.environ["BOOKS_TABLE"]
client = boto3.client("dynamodb")
app = APIGatewayRestResolver()


def book(item: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"bookId": int(item["bookId"]["N"])}
    for name, value in item.items():
        if name != "bookId":
            data[name] = value["S"]
    return data


@app.get("/book/<book_id>")
def get_book(book_id: str) -> Any:
    item = client.get_item(
        TableName=TABLE, Key={"bookId": {"N": str(int(book_id))}}, ConsistentRead=True
    ).get("Item")
    if item is None:
        return Response(404, "application/json", '{"detail": "not found"}')
    return book(item)


@app.get("/book")
def list_books() -> Any:
    event = app.current_event
    genre = event.get_query_string_value("genre", "")
    limit = int(event.get_query_string_value("limit", "20"))
    page = client.query(
        TableName=TABLE,
        IndexName="genre-index",
        KeyConditionExpression="genre = :genre",
        ExpressionAttributeValues={":genre": {"S": genre}},
        Limit=limit + 1,
    )
    return {"items": [book(i) for i in page["Items"][:limit]]}


@app.post("/book")
def create_book() -> Any:
    fields = app.current_event.json_body
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    item = {
        "bookId": {"N": str(int(fields["bookId"]))},
        "name": {"S": fields["name"]},
        "createdAt": {"S": now},
        "updatedAt": {"S": now},
        "version": {"S": uuid.uuid4().hex},
    }
    for name in ("author", "genre"):
        if name in fields:
            item[name] = {"S": fields[name]}
    old = client.put_item(TableName=TABLE, Item=item, ReturnValues="ALL_OLD")
    return book(item), 200 if old.get("Attributes") else 201


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
