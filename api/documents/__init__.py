"""Printable documents of a pickup batch (PDF, CSV, xlsx), rendered from plain data."""
