"""Publishing a run where SREs look: its client-side series by Prometheus remote write
(series.py, remote_write.py) and Grafana annotations (annotations.py), tied together for the
pipeline by session.py.

May import: config, faults, load, provision (and harness's base modules).
"""
