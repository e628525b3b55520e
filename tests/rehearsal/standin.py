"""The local AWS stand-in: moto's server application behind a thin WSGI layer.

Zappa 0.63 deploys to moto 5.2's server as it does to AWS, except where moto
lacks an operation or responds differently from AWS. ``StandInApp`` passes
every request to moto and fills those gaps; each gap is one method below,
named for what it fixes. Run it as a process of its own:

    python -m tests.rehearsal.standin --port 0

It prints ``listening on 127.0.0.1:PORT`` once it accepts connections.
"""

from __future__ import annotations

import argparse
import io
import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from moto.backends import get_backend
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from tests import netguard

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]

# Where the stand-in serves the code of a function version, in place of the
# AWS-hosted URL that moto puts in GetFunction's Code.Location.
CODE_PREFIX = "/_standin/lambda-code/"

LAMBDA_FUNCTION = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)$")
LAMBDA_POLICY = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/policy$")
LAMBDA_URL_CONFIGS = re.compile(r"^/2021-10-31/functions/(?P<name>[^/]+)/urls$")
REST_API = re.compile(r"^/restapis/(?P<api_id>[^/]+)$")
API_KEYS = re.compile(r"^/apikeys(/[^/]+)?$")
CREDENTIAL_REGION = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[a-z0-9-]+)/")


class Captured:
    """The status, headers and body of a response from the inner app."""

    def __init__(self, app: WsgiApp, environ: Environ) -> None:
        self.status = "500 INTERNAL SERVER ERROR"
        self.headers: list[tuple[str, str]] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], object]:
            self.status = status
            self.headers = list(headers)
            return lambda data: None

        chunks = app(environ, start_response)
        try:
            self.body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close:
                close()

    @property
    def status_code(self) -> int:
        return int(self.status.split(" ", 1)[0])

    def send(self, start_response: StartResponse) -> list[bytes]:
        headers = [(k, v) for k, v in self.headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(self.body))))
        start_response(self.status, headers)
        return [self.body]


def read_body(environ: Environ) -> bytes:
    """Read the request body and put it back, so the inner app can read it.

    A body without a Content-Length (chunked) is left alone and reads as empty.
    """
    if not environ.get("CONTENT_LENGTH"):
        return b""
    body: bytes = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
    replace_body(environ, body)
    return body


def replace_body(environ: Environ, body: bytes) -> None:
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))


def request_region(environ: Environ) -> str:
    """Read the region from the request's SigV4 credential scope."""
    found = CREDENTIAL_REGION.search(environ.get("HTTP_AUTHORIZATION", ""))
    return found.group("region") if found else "us-east-1"


def backend(service: str, region: str) -> Any:
    # The dummy credentials of the rehearsal map to moto's default account.
    return get_backend(service)[DEFAULT_ACCOUNT_ID][region]  # type: ignore[call-overload]


def json_response(
    start_response: StartResponse,
    status: str,
    document: object,
    headers: Iterable[tuple[str, str]] = (),
) -> list[bytes]:
    body = json.dumps(document).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            *headers,
        ],
    )
    return [body]


class StandInApp:
    """moto's server application with the gaps that Zappa runs into filled."""

    def __init__(self) -> None:
        self.moto: WsgiApp = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Any:
        method = environ["REQUEST_METHOD"]
        path = unquote(environ.get("PATH_INFO", ""))

        if method == "GET" and path.startswith(CODE_PREFIX):
            return self.serve_function_code(environ, start_response, path)
        if method == "GET" and (match := LAMBDA_URL_CONFIGS.match(path)):
            return self.list_function_url_configs(
                environ, start_response, match["name"]
            )
        if method == "GET" and (match := LAMBDA_FUNCTION.match(path)):
            return self.get_function(environ, start_response, match["name"])
        if method == "POST" and LAMBDA_POLICY.match(path):
            return self.add_permission(environ, start_response)
        if method == "PATCH" and REST_API.match(path):
            return self.update_rest_api(environ, start_response)
        if method in ("GET", "POST") and API_KEYS.match(path):
            return self.api_keys(environ, start_response)
        if method == "POST" and b"Action=DeleteStack" in read_body(environ):
            return self.delete_stack(environ, start_response)
        return self.moto(environ, start_response)

    def list_function_url_configs(
        self, environ: Environ, start_response: StartResponse, name: str
    ) -> list[bytes]:
        """Gap: moto 5.2 has no ListFunctionUrlConfigs, which `zappa update`
        calls to remove function URLs that the settings no longer ask for."""
        lambdas = backend("lambda", request_region(environ))
        try:
            function = lambdas.get_function(name)
        except Exception as error:  # moto's UnknownFunctionException
            return json_response(
                start_response,
                "404 Not Found",
                {"Type": "User", "Message": str(error)},
                [("x-amzn-ErrorType", "ResourceNotFoundException")],
            )
        configs = [function.url_config.to_dict()] if function.url_config else []
        return json_response(start_response, "200 OK", {"FunctionUrlConfigs": configs})

    def get_function(
        self, environ: Environ, start_response: StartResponse, name: str
    ) -> list[bytes]:
        """Gaps in GetFunction that `zappa rollback` runs into.

        Zappa names the version to roll back to as ``function:NAME:VERSION``,
        a partial ARN that AWS accepts and moto cannot parse, so it is
        rewritten to NAME with a Qualifier. The response's Code.Location names
        an AWS host; it is replaced by this stand-in's own URL for the code.
        """
        parts = name.split(":")
        if len(parts) == 3 and parts[0] == "function":
            path = f"/2015-03-31/functions/{quote(parts[1])}"
            query = f"Qualifier={quote(parts[2])}"
            environ["PATH_INFO"] = path
            environ["QUERY_STRING"] = query
            # moto routes on the URI as received, which the server keeps here.
            environ["RAW_URI"] = environ["REQUEST_URI"] = f"{path}?{query}"
        response = Captured(self.moto, environ)
        if response.status_code == 200:
            document = json.loads(response.body)
            code = document.get("Code", {})
            if "Location" in code:
                configuration = document["Configuration"]
                code["Location"] = (
                    f"http://{environ['HTTP_HOST']}{CODE_PREFIX}"
                    f"{request_region(environ)}/{configuration['FunctionName']}/"
                    f"{configuration['Version']}"
                )
                response.body = json.dumps(document).encode()
        return response.send(start_response)

    def serve_function_code(
        self, environ: Environ, start_response: StartResponse, path: str
    ) -> list[bytes]:
        """Serve the zip of a function version, as Code.Location does on AWS."""
        region, name, version = path[len(CODE_PREFIX) :].split("/")
        lambdas = backend("lambda", region)
        qualifier = None if version == "$LATEST" else version
        try:
            function = lambdas.get_function(name, qualifier)
        except Exception as error:  # moto's UnknownFunctionException
            return json_response(start_response, "404 Not Found", {"error": str(error)})
        code: bytes = function.code_bytes
        start_response(
            "200 OK",
            [("Content-Type", "application/zip"), ("Content-Length", str(len(code)))],
        )
        return [code]

    def add_permission(
        self, environ: Environ, start_response: StartResponse
    ) -> list[bytes]:
        """Gap: moto returns 200 for AddPermission where Lambda returns 201,
        and Zappa logs "Problem creating permission" for anything but 201."""
        response = Captured(self.moto, environ)
        if response.status_code == 200:
            response.status = "201 Created"
        return response.send(start_response)

    def update_rest_api(
        self, environ: Environ, start_response: StartResponse
    ) -> list[bytes]:
        """Gap: API Gateway reads the media type of an add or remove on
        /binaryMediaTypes from the path ("/binaryMediaTypes/*~1*" is */*),
        and moto reads it from a value that Zappa does not send."""
        document = json.loads(read_body(environ) or b"{}")
        for operation in document.get("patchOperations", []):
            path = operation.get("path", "")
            if path.startswith("/binaryMediaTypes/") and "value" not in operation:
                escaped = path[len("/binaryMediaTypes/") :]
                operation["value"] = escaped.replace("~1", "/").replace("~0", "~")
        replace_body(environ, json.dumps(document).encode())
        return Captured(self.moto, environ).send(start_response)

    def api_keys(self, environ: Environ, start_response: StartResponse) -> list[bytes]:
        """Gaps in the API keys that `zappa deploy` and `undeploy` run into.

        API Gateway lists a key's stageKeys as "restApiId/stageName" strings,
        and moto as the objects the key was created with, so Zappa (and the
        usage plan callback) would find no key of a stage. And moto ignores
        GetApiKeys' nameQuery, so `zappa undeploy`, which deletes the keys that
        it returns, would delete every key in the account.
        """
        response = Captured(self.moto, environ)
        if response.status_code not in (200, 201):
            return response.send(start_response)
        document = json.loads(response.body)
        name_query = parse_qs(environ.get("QUERY_STRING", "")).get("nameQuery")
        if name_query and "item" in document:
            document["item"] = [
                key
                for key in document["item"]
                if key.get("name", "").startswith(name_query[0])
            ]
        for key in [document, *document.get("item", [])]:
            if "stageKeys" in key:
                key["stageKeys"] = [
                    f"{k['restApiId']}/{k['stageName']}" if isinstance(k, dict) else k
                    for k in key["stageKeys"]
                ]
        response.body = json.dumps(document).encode()
        return response.send(start_response)

    def delete_stack(
        self, environ: Environ, start_response: StartResponse
    ) -> list[bytes]:
        """Gap: deleting a CloudFormation stack in moto leaves the stack's
        AWS::ApiGateway::RestApi behind, so `zappa undeploy` would too."""
        form = parse_qs(read_body(environ).decode())
        region = request_region(environ)
        stacks = backend("cloudformation", region)
        api_ids: list[str] = []
        try:
            stack = stacks.get_stack(form["StackName"][0])
        except Exception:  # moto's ValidationError: no such stack
            stack = None
        if stack is not None:
            for resource in stack.stack_resources:
                kind = getattr(resource, "cloudformation_type", lambda: "")()
                if kind == "AWS::ApiGateway::RestApi":
                    api_ids.append(resource.physical_resource_id)
        response = Captured(self.moto, environ)
        if response.status_code == 200:
            apis = backend("apigateway", region)
            for api_id in api_ids:
                apis.delete_rest_api(api_id)
        return response.send(start_response)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--port", type=int, default=0, help="TCP port on 127.0.0.1; 0 picks one"
    )
    args = parser.parse_args(argv)
    netguard.install()
    server = make_server(
        "127.0.0.1",
        args.port,
        StandInApp(),
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    print(f"listening on 127.0.0.1:{server.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
