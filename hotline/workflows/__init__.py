"""Shipped workflow definitions, the loader that turns YAML into a checked Definition, the
business calendars and the diagrams (mermaid, Graphviz). May import: the engine, handlers
(to know their names) and errors.

This ``__init__`` imports nothing, so the CLI's ``--help`` names the default definition without
loading pydantic.
"""

DEFAULT = "beijing-12345"
