"""Shipped workflow definitions and the loader that turns YAML into a checked Definition.

This ``__init__`` imports nothing, so the CLI's ``--help`` names the default definition without
loading pydantic.
"""

DEFAULT = "beijing-12345"
