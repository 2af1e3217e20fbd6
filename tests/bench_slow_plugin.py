"""A pytest plugin that makes the generated parametric_swish deliberately slow (a 2 ms sleep per call).

tests/test_bench_cli.py loads it into the benchmark run (PYTEST_ADDOPTS="-p bench_slow_plugin") to check
that `grimoire bench --compare` catches a slowed kernel. It patches the module attribute before the bench
files import it, so only the generated op slows down, not its peers.
"""

from __future__ import annotations

import time


def pytest_configure(config):
    import generated_ops.ops.parametric_swish as module

    original = module.parametric_swish

    def slowed(*args, **kwargs):
        time.sleep(0.002)
        return original(*args, **kwargs)

    module.parametric_swish = slowed
