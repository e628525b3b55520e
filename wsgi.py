"""The WSGI entry point for ``flask run``, Zappa and WSGI servers."""

from bookapi import create_app

app = create_app()
