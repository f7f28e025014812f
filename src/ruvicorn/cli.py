"""The `ruvicorn` command line (placeholder until the server lands)."""

from __future__ import annotations

import click

import ruvicorn


@click.command()
@click.version_option(ruvicorn.__version__, "--version", prog_name="ruvicorn")
def main() -> None:
    """Run an ASGI application."""
