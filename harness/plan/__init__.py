"""Capacity planning from a step (stress) run: knee, replicas, connections, memory and cost."""
