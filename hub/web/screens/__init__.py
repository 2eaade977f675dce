"""The store's screens, served by the hub itself: kitchen display, order-ready board, dashboard.

Plain HTML, CSS and JavaScript files in ``static/`` (no build step, nothing
from the internet): the pages read the REST API and listen on ``/ws`` like a
till does. What each page may see is decided by the server (role guards on
the routes, the role table of ``hub.web.realtime.rooms``), never by the page.
See docs/screens.md.
"""
