"""Security headers on every response, and the CORS policy.

The API serves JSON only, so every response forbids MIME sniffing, referrers
and framing, and error responses are never stored by caches. CORS is off
unless ``CORS_ALLOWED_ORIGINS`` names origins (see bookapi/config.py).
"""

from __future__ import annotations

from flask import Flask, Response
from flask_cors import CORS

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# A JSON document loads nothing and is never framed, even when a browser is
# tricked into rendering it.
JSON_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
JSON_MEDIA_TYPES = ("application/json", "application/problem+json")

# Response headers that browser scripts on an allowed origin may read.
CORS_EXPOSED_HEADERS = ["ETag", "Location", "Link", "Retry-After", "X-Request-ID"]
# Request headers that they may send, beyond the CORS-safelisted ones.
# X-Api-Key is for API Gateway, which checks it on deployed stages; the app
# itself never reads it.
CORS_ALLOWED_HEADERS = [
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "X-Api-Key",
    "X-Request-ID",
]
CORS_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Seconds a browser may cache a preflight response.
CORS_MAX_AGE = 600


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype in JSON_MEDIA_TYPES:
        response.headers.setdefault(
            "Content-Security-Policy", JSON_CONTENT_SECURITY_POLICY
        )
    if response.status_code >= 400:
        response.headers["Cache-Control"] = "no-store"
    return response


def vary_by_origin(response: Response) -> Response:
    """Mark every response as depending on Origin for caches.

    flask-cors 6 adds ``Vary: Origin`` only when several origins are allowed,
    but with one allowed origin a response without CORS headers, cached for a
    request without Origin, would also break that origin's browsers.
    """
    response.vary.add("Origin")
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
    origins: list[str] = app.config["CORS_ALLOWED_ORIGINS"]
    if origins and origins != ["*"]:
        app.after_request(vary_by_origin)
    if origins:
        CORS(
            app,
            origins=origins,
            send_wildcard=origins == ["*"],
            methods=CORS_METHODS,
            allow_headers=CORS_ALLOWED_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=CORS_MAX_AGE,
            supports_credentials=False,
        )
