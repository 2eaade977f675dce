"""A faithful emulator of the parts of Odoo 16-19 a POS sync agent uses.

See ``emulator.OdooEmulator`` to run one and ``faults.FaultPlan`` for what can
be made to go wrong. ``pos.py`` and ``rpc.py`` name the Odoo functions whose
behaviour they reproduce.
"""

from .emulator import VERSIONS, OdooEmulator, Seed
from .faults import FaultPlan, Faults

__all__ = ["VERSIONS", "FaultPlan", "Faults", "OdooEmulator", "Seed"]
