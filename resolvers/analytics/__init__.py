"""Figures an analyst groups: `executionAggregate` (and, later, `usage`)."""
