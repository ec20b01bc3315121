"""One module per `harness` sub-command; each exposes register(app).

May import: compare, config, drill, export, pipeline, plan, provision, report, stack,
validate (and harness's base modules).
"""
