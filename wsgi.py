"""The WSGI entry point for ``flask run``, Zappa and WSGI servers."""

from bookapi import create_app

app = create_app()
# Create the DynamoDB client at import, which on Lambda is the init phase.
app.extensions["bookapi"].connect()
