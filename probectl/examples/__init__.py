"""Bundled example data for `probectl demo`."""
