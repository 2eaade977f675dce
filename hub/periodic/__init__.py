"""Periodic jobs of ``edgehub serve``, owned by the app's lifespan.

``scheduler`` runs them and records each outcome; ``hooks`` is where other
modules plug work in (stale connections, cache warming); ``maintenance`` holds
the database chores; ``plan`` lists the jobs a hub runs and how often.
"""
