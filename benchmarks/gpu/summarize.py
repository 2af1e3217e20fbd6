"""Print a short table of a pytest-benchmark JSON written by the generated suite (the harness's extra_info):
per op, pass, shape and dtype, the generated op's median, each peer's speedup (peer / generated) and the
generated op's share of the ceiling measured in the same run. Needs nothing but the standard library, so
it runs on the GPU machine right after the suite, before the JSON comes back.

    python benchmarks/gpu/summarize.py harness.json
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict


def main(path: str) -> int:
    data = json.load(open(path))
    cases: dict = defaultdict(dict)
    for b in data["benchmarks"]:
        e = b["extra_info"]
        key = (e["op"], e["pass_"], "x".join(map(str, e["shape"])), e["dtype"])
        cases[key][e["impl"]] = (b["stats"]["median"], e)
    print(f"{'op':18} {'pass':15} {'shape':18} {'dtype':8} {'ours ms':>9}  peers (speedup = peer / ours)   % ceiling")
    for key in sorted(cases):
        impls = cases[key]
        if "generated" not in impls:
            continue
        t, e = impls["generated"]
        peers = "  ".join(f"{name} {p[0] / t:.2f}x" for name, p in sorted(impls.items()) if name != "generated")
        rate, unit = (e.get("flops", 0) / t / 1e12, "TF") if e.get("ceiling") == "matmul" else (e.get("bytes", 0) / t / 1e9, "GB/s")
        ceil = e.get("ceiling_rate") or 0
        pct = f"{100 * rate / ceil:.0f}% ({rate:.0f} {unit})" if ceil else ""
        print(f"{key[0]:18} {key[1]:15} {key[2]:18} {key[3]:8} {t * 1e3:9.3f}  {peers:40} {pct}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
