"""Drive load: Locust in its own process, latency recorded in HdrHistograms.

May import: config (and harness's base modules).
"""
