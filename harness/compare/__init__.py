"""Compare a run with a baseline, metric by metric, and keep the history of runs it needs."""
