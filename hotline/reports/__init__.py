"""Assessment reports (考评): the three rates (三率), composite, rankings, hot topics (每月一题),
the whistle report, their documents (JSON/CSV/table) and charts.

May import: the service, engine, persistence's query verbs. Never api, cli or daemon.
"""
