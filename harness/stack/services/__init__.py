"""Real servers the `local` backend starts from the binaries on this machine."""
