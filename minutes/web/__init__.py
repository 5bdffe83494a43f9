"""`minutes serve`: a read-only web page (and JSON API) over a store.

`create_app(settings)` builds the FastAPI app; the CLI only parses options and runs uvicorn.
Importing this package loads no model and opens no store.
"""
from __future__ import annotations


def create_app(settings, *, index=None):
    """The web app for `settings` (see `minutes.web.app.create_app`)."""
    from .app import create_app as _create

    return _create(settings, index=index)


__all__ = ["create_app"]
