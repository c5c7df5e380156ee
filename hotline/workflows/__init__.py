"""Shipped workflow definitions and the loader that turns YAML into a checked Definition."""
