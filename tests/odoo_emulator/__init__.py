"""A faithful emulator of the parts of Odoo 16-19 a POS sync agent uses.

In tests, take the ``odoo_emulator`` fixture of ``tests/cloud_sync/conftest.py``
(parametrized over 16, 17, 18, 19) or build one::

    with OdooEmulator(18) as odoo:                 # seeded shop, served on 127.0.0.1
        client = OdooClient(odoo.url, odoo.dbname, odoo.seed.login, odoo.seed.api_key)
        odoo.faults.set(drop_rate=1.0, only={"sync_from_ui"})   # commit, then hang up
        ...
        odoo.faults.clear()
        assert len(odoo.orders()) == 3             # rows with their lines and payments

Switches (``faults.FaultPlan``): ``error_rate`` (503 before anything runs),
``delay`` (latency; the call still commits), ``drop_rate`` (commit, then close
the socket unanswered), ``serialization_failure_rate``, ``wrong_api_key``,
``gateway_down`` (502), ``push_seconds_per_order`` with ``push_cpu_share``
(a push past Odoo's worker time limits: killed unanswered, or stopped with
"CPU time limit exceeded."), ``only`` (limit to some methods); plus
``go_down("refused")`` / ``come_back()`` to stop and restart listening, and
``set_option("no_access", {model})`` to withdraw the sync user's read access.

``pos.py`` and ``rpc.py`` name the Odoo functions whose behaviour they reproduce.
"""

from .emulator import VERSIONS, OdooEmulator, Seed
from .faults import FaultPlan, Faults

__all__ = ["VERSIONS", "FaultPlan", "Faults", "OdooEmulator", "Seed"]
