"""Rapport: open relationship management in the model of Business Central."""

__version__ = "0.1.0"
