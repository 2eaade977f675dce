"""The web app: Litestar routes (``api``), the WebSocket side (``realtime``), the
screens, and ``serve``. It imports the core (``hub``) only, never a daemon.
"""
