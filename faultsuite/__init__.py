"""The whole-store fault suite: every part of a store on 127.0.0.1, killed and cut on a schedule.

``run.run_suite`` starts a private Mosquitto and Redis, two ``edgehub serve``
processes, ``edgehub bridge``, two ``edgehub printer`` adapters on simulated
printers, ``edgehub sync`` against an Odoo emulator, tills and a KDS; it
injects a seeded schedule of faults while they sell, then checks the ledger
(``ledger``). It lives in the installed package, not in ``tests/``, because
``edgehub selftest`` runs a short version of it on a store's own box; the Odoo
emulator it needs is ``tests/odoo_emulator``, shipped here as
``faultsuite.odoo_emulator`` (a link in the source tree, a copy in the wheel).
"""
