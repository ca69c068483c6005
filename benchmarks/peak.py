"""The machine's FP32 FMA peak, measured: independent FMA chains (peak_fma.c) at 1 and 2 threads.

AVX-512 (`_mm512_fmadd_ps`, -march=x86-64-v4) and AVX2 (`_mm256_fmadd_ps`, -march=x86-64-v3).
The peak is the *best* of several repetitions (a peak is what the core can do; noise only
lowers it). Other scripts read the cached result from results/peak.json (`load_peak`).

    python3 benchmarks/peak.py [--out DIR] [--reps 7]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    import sys

    sys.path.insert(0, str(HERE.parent))

from benchmarks import common  # noqa: E402

SOURCE = HERE / "peak_fma.c"
VARIANTS = {"avx512": ("512", "x86-64-v4", "avx512f"), "avx2": ("256", "x86-64-v3", "avx2")}
PEAK_FILE = "peak.json"


def build(isa: str, outdir: Path) -> Path:
    vec, march, _ = VARIANTS[isa]
    exe = outdir / f"peak_fma_{isa}"
    subprocess.run(
        ["gcc", "-O3", f"-march={march}", f"-DVEC={vec}", "-pthread", str(SOURCE), "-o", str(exe)], check=True
    )
    return exe


def run_once(exe: Path, threads: int, iters: int) -> tuple[float, float]:
    """(seconds, GFLOP/s) of one run of all `threads` threads together."""
    out = subprocess.run([str(exe), str(threads), str(iters)], check=True, capture_output=True, text=True).stdout
    seconds, flops = (float(v) for v in out.split()[:2])
    return seconds, flops / seconds / 1e9


def measure(exe: Path, threads: int, reps: int, target_s: float = 0.2) -> dict:
    iters = 1_000_000
    while run_once(exe, threads, iters)[0] < target_s / 4:  # calibrate: runs of ~target_s
        iters *= 4
    seconds, _ = run_once(exe, threads, iters)
    iters = max(1, int(iters * target_s / seconds))
    rates = [run_once(exe, threads, iters)[1] for _ in range(reps)]
    best = max(rates)
    return {
        "threads": threads,
        "iters": iters,
        "gflops_all_runs": rates,
        "gflops": best,
        "gflops_per_core": best / threads,
    }


def measure_peak(reps: int = 7, threads_list=(1, 2)) -> dict:
    flags = common.cpu_flags()
    result = {"machine": common.machine_info(), "load_start": common.loadavg(), "isas": {}}
    with tempfile.TemporaryDirectory(prefix="patdnn-peak-") as tmp:
        for isa, (_, _, flag) in VARIANTS.items():
            if flag not in flags:
                result["isas"][isa] = {"skipped": f"the CPU has no {flag}"}
                continue
            exe = build(isa, Path(tmp))
            runs = {str(t): measure(exe, t, reps) for t in threads_list}
            result["isas"][isa] = {"threads": runs, "gflops_per_core": max(r["gflops_per_core"] for r in runs.values())}
    result["load_end"] = common.loadavg()
    result["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    return result


def load_peak(outdir: Path, measure_if_missing: bool = True, reps: int = 7) -> dict | None:
    """The cached peak (outdir/peak.json), measured now if missing."""
    path = Path(outdir) / PEAK_FILE
    if path.is_file():
        return common.read_json(path)
    if not measure_if_missing:
        return None
    result = measure_peak(reps)
    write_results(result, Path(outdir))
    return result


def peak_per_core(peak: dict | None, isa: str) -> float | None:
    """GFLOP/s per core for `isa` (neon runs through SIMDe on AVX2 instructions: the AVX2 peak)."""
    if not peak:
        return None
    entry = peak["isas"].get("avx2" if isa == "neon" else isa, {})
    return entry.get("gflops_per_core")


def write_results(result: dict, outdir: Path) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    common.write_json(outdir / PEAK_FILE, result)
    rows = []
    for isa, entry in result["isas"].items():
        if "skipped" in entry:
            rows.append([isa, "-", "-", "-", entry["skipped"]])
            continue
        for t, r in entry["threads"].items():
            rows.append(
                [
                    isa,
                    t,
                    f"{r['gflops']:.1f}",
                    f"{r['gflops_per_core']:.1f}",
                    f"median of runs {sorted(r['gflops_all_runs'])[len(r['gflops_all_runs']) // 2]:.1f}",
                ]
            )
    table = common.markdown_table(["ISA", "threads", "GFLOP/s (best)", "GFLOP/s per core", "note"], rows)
    common.write_markdown(outdir / "peak.md", "FP32 FMA peak", result, [table])
    labels = [f"{isa}\n{t} thr" for isa, e in result["isas"].items() if "threads" in e for t in e["threads"]]
    values = [r["gflops"] for e in result["isas"].values() if "threads" in e for r in e["threads"].values()]
    common.bar_plot(outdir / "peak.png", "FP32 FMA peak (best run)", labels, {"GFLOP/s": values}, "GFLOP/s")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args(argv)
    result = measure_peak(args.reps)
    write_results(result, args.out)
    for isa, entry in result["isas"].items():
        print(isa, entry.get("skipped") or f"{entry['gflops_per_core']:.1f} GFLOP/s per core")


if __name__ == "__main__":
    main()
