"""Collect: server metrics scraped from every replica, as time series."""
