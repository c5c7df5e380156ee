"""Assessment reports (考评): the three rates (三率), composite, rankings, hot topics (每月一题),
the whistle report, their documents (JSON/CSV/table) and charts.

May import: the service, engine, persistence's query verbs. Never api, cli or daemon.
This ``__init__`` imports nothing (the CLI's ``--help`` shows the limit without the service).
"""

MAX_MONTHS_BEFORE = 24  # how far back 每月一题 compares growth (the CLI and the API both cap it)
