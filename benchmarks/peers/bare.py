"""The baseline: a handler that reads the event by hand and makes one
boto3 call per request, with the client created at import (Lambda's init).

It serves the three requests the benchmark sends: ``GET /book/{id}``,
``POST /book`` and ``GET /book?genre=...&limit=...``.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3

TABLE = os.environ["BOOKS_TABLE"]
client = boto3.client("dynamodb")


def book(item: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"bookId": int(item["bookId"]["N"])}
    for name, value in item.items():
        if name != "bookId":
            data[name] = value["S"]
    return data


def respond(status: int, body: Any) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    method = event["httpMethod"]
    parts = event["path"].strip("/").split("/")
    if method == "GET" and len(parts) == 2 and parts[1].isdigit():
        item = client.get_item(
            TableName=TABLE, Key={"bookId": {"N": parts[1]}}, ConsistentRead=True
        ).get("Item")
        if item is None:
            return respond(404, {"detail": "not found"})
        return respond(200, book(item))
    if method == "GET" and parts == ["book"]:
        query = event.get("queryStringParameters") or {}
        limit = int(query.get("limit", "20"))
        page = client.query(
            TableName=TABLE,
            IndexName="genre-index",
            KeyConditionExpression="genre = :genre",
            ExpressionAttributeValues={":genre": {"S": query["genre"]}},
            Limit=limit + 1,
        )
        return respond(200, {"items": [book(i) for i in page["Items"][:limit]]})
    if method == "POST" and parts == ["book"]:
        raw = event["body"] or ""
        text = base64.b64decode(raw) if event.get("isBase64Encoded") else raw
        fields = json.loads(text)
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
        return respond(200 if old.get("Attributes") else 201, book(item))
    return respond(404, {"detail": "not found"})
