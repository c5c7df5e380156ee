"""Simulation: the demo, simulated months of tickets (with whistles) through the real service.

May import: the service, daemon's sweeper, engine, workflows. Never api or cli.
"""
