"""Command groups of the ``hotline`` CLI, one module per subject.

``hotline.cli.main`` assembles them (and nothing else does): each module exposes
``register(app)``, which adds its commands (or its sub-app) to the root Typer app. What every
command shares lives in ``common``.
"""
