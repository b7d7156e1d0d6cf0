"""Time and peak memory of meshing a 4,096-point Point-E cloud at grid 128 with the fallback.

    python bench/meshing.py [--cloud PATH] [--grid 128] [--repeats 3]

Prints the median wall time of `mesh_point_cloud` (goal: under 10 s on a 2-core CPU), the peak
Python-allocated memory (tracemalloc: numpy/scipy buffers included) and the process's peak
resident memory, then the same for print preparation (80 mm, flat base)."""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import export  # noqa: E402
from engine.meshing import mesh_point_cloud, prepare_for_print  # noqa: E402


def measure(fn, repeats: int):
    times, peak, result = [], 0, None
    for _ in range(repeats):
        tracemalloc.start()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        peak = max(peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return statistics.median(times), peak, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cloud", default=str(ROOT.parent / "shared/examples/pc_corgi.npz"))
    parser.add_argument("--grid", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    pc = export.load(args.cloud)
    mesh_point_cloud(pc, grid=32)  # warm-up: imports, first-call overheads
    secs, peak, (mesh, report) = measure(
        lambda: mesh_point_cloud(pc, method="grid", grid=args.grid), args.repeats
    )
    print(f"cloud: {Path(args.cloud).name}, {len(pc)} points, grid {args.grid}")
    print(
        f"mesh_point_cloud: median {secs:.2f} s over {args.repeats} runs, "
        f"peak traced memory {peak / 2**20:.0f} MiB, {report.n_faces} faces, "
        f"watertight={report.watertight}  (goal < 10 s)"
    )
    secs, peak, (_, pr) = measure(
        lambda: prepare_for_print(mesh, size_mm=80, base="cut", base_depth_mm=1.0), args.repeats
    )
    print(
        f"prepare_for_print (80 mm, flat base): median {secs:.2f} s, "
        f"peak traced memory {peak / 2**20:.0f} MiB, watertight={pr.watertight}"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"process peak resident memory: {rss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
