"""Verify: turn collected evidence into checks, each a verdict with its numbers."""
