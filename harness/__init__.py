"""ServiceDesk harness: does this deployment keep its promises?

The package follows the run's data flow:
config -> stack up -> provision -> drive load -> collect -> verify -> report -> stack down.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
