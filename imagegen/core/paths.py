"""Where the data directory is: the one function that resolves ``IMAGEGEN_HOME``.

The store (runs, images) and the local price overrides both live there, so both ask
:func:`data_home`; a leading ``~`` means the user's home directory for both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

HOME_ENV = "IMAGEGEN_HOME"
#: The default: ``.imagegen/`` in the checkout (git-ignored).
DEFAULT_HOME = Path(__file__).resolve().parents[2] / ".imagegen"


def data_home(home: str | Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    """``home`` if given, else ``$IMAGEGEN_HOME``, else ``.imagegen/`` in the checkout; ``~`` expanded."""
    if home is None or str(home) == "":
        home = (os.environ if env is None else env).get(HOME_ENV) or DEFAULT_HOME
    return Path(home).expanduser()
