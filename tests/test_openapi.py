"""The OpenAPI document: valid, complete, and right behind a stage prefix."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from bookapi import create_app

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
# Routes that serve the document itself, not the API.
DOC_ENDPOINTS = {
    "static",
    "docs.openapi_json",
    "docs.docs_page",
    "docs.docs_asset",
    "docs.docs_init_script",
}


def spec(client: FlaskClient, **kwargs: Any) -> dict[str, Any]:
    response = client.get("/openapi.json", **kwargs)
    assert response.status_code == 200
    document: dict[str, Any] = response.get_json()
    return document


def api_app() -> Flask:
    return create_app({"BOOKS_TABLE": "books-doc"})


def test_document_is_valid_openapi() -> None:
    document = spec(api_app().test_client())

    validate(document)
    assert document["openapi"].startswith("3.")


def test_document_lists_every_route() -> None:
    app = api_app()
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in DOC_ENDPOINTS:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            served.add((path, method.lower()))

    document = spec(app.test_client())
    documented = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }

    assert documented == served


def test_every_operation_documents_its_errors() -> None:
    document = spec(api_app().test_client())

    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation["responses"]
            assert "400" in responses, (method, path)
            assert "503" in responses, (method, path)
            problem = responses["503"]["content"]["application/problem+json"]
            assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}
            assert "Retry-After" in responses["503"]["headers"]


def test_error_responses_are_problem_details() -> None:
    document = spec(api_app().test_client())
    default = document["components"]["responses"]["DEFAULT_ERROR"]

    assert list(default["content"]) == ["application/problem+json"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            for status, response in operation["responses"].items():
                if status == "default":
                    assert response == {"$ref": "#/components/responses/DEFAULT_ERROR"}
                elif int(status) >= 400:
                    content = list(response["content"])
                    assert content == ["application/problem+json"], (method, path)


def test_document_states_the_text_rules() -> None:
    document = spec(api_app().test_client())
    schemas = document["components"]["schemas"]
    query = document["paths"]["/book"]["get"]["parameters"]

    for schema in ("BookIn", "BookPut", "BookPatch"):
        for name in ("name", "author", "genre"):
            text = schemas[schema]["properties"][name]
            assert text["minLength"] == 1, (schema, name)
            assert text["pattern"] == r"\S", (schema, name)
    for parameter in query:
        if parameter["name"] in ("author", "genre"):
            assert parameter["schema"]["pattern"] == r"\S"
    for name in ("createdAt", "updatedAt"):
        assert schemas["Book"]["properties"][name]["format"] == "date-time"


def test_document_names_the_http_headers() -> None:
    document = spec(api_app().test_client())
    text = str(document)

    for header in (
        "ETag",
        "If-Match",
        "If-None-Match",
        "Link",
        "Location",
        "Retry-After",
    ):
        assert f"'{header}'" in text, header


def test_server_url_is_local_root() -> None:
    document = spec(api_app().test_client(), base_url="http://127.0.0.1:5000")

    assert document["servers"] == [{"url": "http://127.0.0.1:5000"}]


def test_server_url_keeps_stage_prefix() -> None:
    client = api_app().test_client()

    document = spec(
        client, base_url="https://abc123.execute-api.us-east-1.amazonaws.com/dev"
    )

    assert document["servers"] == [
        {"url": "https://abc123.execute-api.us-east-1.amazonaws.com/dev"}
    ]


def test_docs_page_works_offline() -> None:
    client = api_app().test_client()

    page = client.get("/docs")
    html = page.get_data(as_text=True)
    asset = client.get("/docs/assets/swagger-ui-bundle.js")

    assert page.status_code == 200
    assert 'src="/docs/assets/swagger-ui-bundle.js"' in html
    assert '"/openapi.json"' in html
    assert asset.status_code == 200
    assert len(asset.data) > 100_000


def test_every_error_response_is_documented_as_a_problem() -> None:
    document = spec(api_app().test_client())
    components = document["components"]["responses"]

    media_types = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            for status, response in operation["responses"].items():
                if status == "default" or int(status) >= 400:
                    if "$ref" in response:
                        response = components[response["$ref"].rsplit("/", 1)[1]]
                    media_types[(method, path, status)] = list(response["content"])

    assert media_types
    assert {key: ["application/problem+json"] for key in media_types} == media_types


def test_docs_page_forbids_framing_and_inline_scripts() -> None:
    response = api_app().test_client().get("/docs")

    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self';" in policy
    assert "<script>" not in response.get_data(as_text=True)
