"""Install the network guard in Python processes that put this folder on
PYTHONPATH: the rehearsal runs Zappa so. Only the standard library is used."""

import importlib.util
from pathlib import Path

_path = Path(__file__).resolve().parent.parent.parent / "netguard.py"
_spec = importlib.util.spec_from_file_location("netguard", _path)
if _spec is None or _spec.loader is None:
    raise ImportError(f"cannot load the network guard from {_path}")
_netguard = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_netguard)
_netguard.install()
