"""The server (``valuegap serve``): the REST API under ``/api/v1``, browser sign-in, and the
OTLP/HTTP receiver, each route a thin adapter over one ``Ledger`` that every request shares.

- ``app.py``: the application: routers, error handlers, limits and headers;
- ``auth.py``: who is calling (API token or browser session) and what their route needs;
- ``problems.py``: the one JSON shape of every error (RFC 9457 problem details);
- ``guards.py``: request size limits and security headers;
- ``api/``: one module per resource;
- ``server.py``: running it under Uvicorn.
"""
