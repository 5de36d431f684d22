"""The ``ssj`` command line and the demo: entry points over ``workflow`` and ``flows``."""
