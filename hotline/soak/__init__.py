"""``hotline soak``: real ``hotline run`` daemons on an accelerated clock, killed and paused at
random while clients submit tickets and send commands whose replies get lost, then the
promises checked from the database (exactly-once firing, no lost or duplicated intake, every
message delivered, every command applied once, the chains verify).

``daemons`` runs the child processes, ``clients`` plays the callers, ``verdict`` reads the
database back and ``run`` puts them together. May import: the service, the simulation's
planner, persistence's query verbs, the audit.
"""
