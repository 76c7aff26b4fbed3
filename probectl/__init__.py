"""probectl: why do a Kubernetes pod's containers restart, crash or get no traffic?"""

__version__ = "0.1.0"
