"""One module per `harness` sub-command; each exposes register(app)."""
