"""The WSGI entry point for ``flask run``, Zappa and WSGI servers."""

import logging

from bookapi import create_app

app = create_app()
# Create the DynamoDB client at import, which on Lambda is the init phase.
app.extensions["bookapi"].connect()
# bookapi logs one line per request (bookapi.request, with its request id),
# so Zappa's Common Log Format line for the same request is left out.
logging.getLogger("zappa.wsgi").setLevel(logging.WARNING)
