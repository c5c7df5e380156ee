"""Command groups of the ``hotline`` CLI, one module per subject.

``hotline.cli.main`` assembles them (and nothing else does): each module exposes
``register(app)``, which adds its commands (or its sub-app) to the root Typer app. What every
command shares lives in ``common``.

May import: everything below it, and of persistence only its public verbs; never the store's
internals. At the top of a module only typer, rich and light modules: the service, FastAPI,
APScheduler and matplotlib are imported inside the commands that use them, so ``hotline
--help`` stays fast.
"""
