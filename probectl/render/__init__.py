"""Renderers: results in, strings out. No decisions, no exit codes, no printing."""
