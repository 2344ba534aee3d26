"""The ``pjgw`` command line: the app and its entry point live in :mod:`gateway.cli.main`."""

from gateway.cli.main import app, main

__all__ = ["app", "main"]
