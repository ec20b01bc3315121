"""Configuration: scenarios, the SLO spec, the bundled Kubernetes manifests, run options."""
