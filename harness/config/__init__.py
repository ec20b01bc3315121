"""Configuration: scenarios, the SLO spec, the bundled Kubernetes manifests, run options.

May import: nothing (and harness's base modules).
"""
