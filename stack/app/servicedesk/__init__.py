"""ServiceDesk: the reference help-desk service the harness deploys and loads.

Run with ``PYTHONPATH=stack/app python -m servicedesk serve``. Configuration comes from the
environment only (see :mod:`servicedesk.settings`).
"""

__all__ = ["__version__"]

__version__ = "1.0.0"
