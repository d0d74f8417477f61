"""The modes of a cassette, and where the pytest plugin reads the mode from (stdlib only, so
the plugin loads nothing else until a test asks for a cassette).

- `replay`: answer from the file only; never touch the network. The file must exist.
- `record`: every request goes to the network; the file is (over)written on close.
- `once`: `replay` when the file exists, else `record`.
- `new_episodes`: replay what matches, send the rest to the network and add it to the file.
"""

from __future__ import annotations

from typing import Literal, get_args

Mode = Literal["record", "replay", "once", "new_episodes"]
MODES: tuple[str, ...] = get_args(Mode)
MODE_ENV = "AIGATEWAY_CASSETTE_MODE"
"""The environment variable the pytest plugin reads the mode from (`--cassette-mode` wins)."""

__all__ = ["MODES", "MODE_ENV", "Mode"]
