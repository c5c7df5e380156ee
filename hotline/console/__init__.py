"""The web console (控制台) for the centre's supervisors, admins and auditors, under ``/console``.

Server-rendered (Jinja2 templates, no JavaScript needed), Chinese by default with English as a
choice, a thin shell over the ``Service`` like the API: the same roles, unit scoping and masking
(``engine.access``). One module per page group: ``session`` (sign in, CSRF), ``tickets``,
``dashboard``, ``operations``, ``audit``, ``definitions``; ``pages`` renders and maps errors.
"""
