"""Drive load: Locust in its own process, latency recorded in HdrHistograms."""
