"""attention and flash_attention: fixed forms, nothing derived beyond the common components."""

from __future__ import annotations

from . import KindModel

MODELS = {"attention": KindModel(frozenset()), "flash_attention": KindModel(frozenset())}
