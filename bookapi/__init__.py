"""bookapi: a Book catalogue REST API on Flask and DynamoDB, for AWS Lambda."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from bookapi.config import settings_from_env
from bookapi.models import bind_book_model
from bookapi.store import BookStore

__all__ = ["create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the app, configured from the environment and then ``config``.

    Each app binds its own ``Book`` model, so apps for different tables or
    endpoints can live side by side in one process.
    """
    from bookapi import cli, docs, requestlog, security, views
    from bookapi.api import BookApi

    app = Flask(__name__)
    app.config.update(settings_from_env())
    if config:
        app.config.update(config)
    app.config.update(
        API_TITLE="bookapi",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        # The document and the docs page are served by bookapi.docs.
        OPENAPI_URL_PREFIX=None,
        API_SPEC_OPTIONS={
            "info": {
                "description": "A Book catalogue on DynamoDB. Errors are RFC 9457 "
                "problem details (application/problem+json)."
            }
        },
        # Exceptions reach the error handlers, which log them and respond with
        # a problem document, in tests too.
        PROPAGATE_EXCEPTIONS=False,
    )

    # Keep fields in their documented order, and non-ASCII text readable.
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    model = bind_book_model(
        table_name=app.config["BOOKS_TABLE"],
        region=app.config["AWS_REGION"],
        host=app.config["DYNAMODB_ENDPOINT"],
        connect_timeout=app.config["DYNAMODB_CONNECT_TIMEOUT"],
        read_timeout=app.config["DYNAMODB_READ_TIMEOUT"],
        max_retries=app.config["DYNAMODB_MAX_RETRIES"],
    )
    app.extensions["bookapi"] = BookStore(model)

    app.url_map.converters["bookid"] = views.BookIdConverter
    api = BookApi(app)
    api.register_converter(views.BookIdConverter, bookid_openapi_schema)
    api.register_blueprint(views.blp)
    docs.init_app(app, api)

    requestlog.init_app(app)
    security.init_app(app)
    cli.init_app(app)
    return app


def bookid_openapi_schema(converter: Any) -> dict[str, Any]:
    from bookapi.config import MAX_BOOK_ID

    return {"type": "integer", "minimum": 1, "maximum": MAX_BOOK_ID}
