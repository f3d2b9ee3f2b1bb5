"""Tonnage reports: maintained aggregates of order lines, and the queries that read them."""
