"""Load in the units the thresholds use: replica CPU per request, and rates sized from it."""
