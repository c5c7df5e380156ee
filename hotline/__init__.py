"""Hotline: a workflow engine for citizen-complaint hotlines (12345, 接诉即办)."""

__version__ = "0.1.0"
