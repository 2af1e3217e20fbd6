"""attention and flash_attention: fixed forms, nothing derived beyond the common components."""

from __future__ import annotations

from . import KindModel


MODELS = {
    "attention": KindModel(frozenset()),
    # Its property-test helpers build on attention's (package/_properties_attention.py).
    "flash_attention": KindModel(frozenset(), uses_packages=("attention",)),
}
