"""Engine API routes, one module per resource (see ``api/router.py``)."""
