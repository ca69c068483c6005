"""Shared helpers of the benchmark scripts: machine facts, thread settings per framework,
the interleaved timing loop, output checks and the JSON / markdown / PNG writers."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Several frameworks share 2 cores in one process: a worker thread that keeps spinning after its
# framework's call (OpenMP's default wait policy, ONNX Runtime's intra-op spinning, ncnn's blocktime)
# steals the core the next framework's threads need, and a 2-thread call then waits a whole
# scheduler quantum (~30 ms) at its barrier. Idle workers must sleep: set before torch loads libgomp.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# Idle time before each timed call: long enough for a spinning worker to park (OMP_WAIT_POLICY is
# passive), short enough that the VM's idle vCPU is not halted — after ~10-20 ms idle, waking the
# second vCPU costs a 2-thread call milliseconds (VGG 512->512 @28, ours: 4.3 ms after gaps of up to
# 5 ms, 6.8 ms after 20 ms; the same for every framework), which is not what a model running
# back to back sees.
DEFAULT_GAP_MS = 2.0

RESULTS_DIR = Path(__file__).resolve().parent / "results"
REL_TOL = 1e-4  # max abs error / max abs reference value


# --- machine -------------------------------------------------------------------------------------


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def best_isa() -> str:
    """The fastest ISA of our C backend this host runs (the compiler's `auto` target)."""
    from patdnn.toolchain import best_host_isa

    return best_host_isa()


def loadavg() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def _first_line(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.splitlines()[0].strip()
    except (OSError, IndexError):
        return "unknown"


def _lscpu_field(name: str) -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return "unknown"
    for line in out.splitlines():
        if line.split(":", 1)[0].strip() == name:
            return line.split(":", 1)[1].strip()
    return "unknown"


def _version(module: str) -> str:
    try:
        return str(getattr(__import__(module), "__version__", "unknown"))
    except Exception as e:  # noqa: BLE001 - report why, never fail on a version
        return f"not importable ({type(e).__name__})"


def machine_info() -> dict:
    return {
        "cpu": _lscpu_field("Model name"),
        "cores": os.cpu_count(),
        "threads_per_core": _lscpu_field("Thread(s) per core"),
        "l2": _lscpu_field("L2 cache"),
        "compiler": _first_line([os.environ.get("CC", "gcc"), "--version"]),
        "python": platform.python_version(),
        "best_isa": best_isa(),
        "versions": {m: _version(m) for m in ("numpy", "torch", "onnx", "onnxruntime", "ncnn", "xdsl")},
    }


# --- frameworks at a given thread count ------------------------------------------------------------


def run_record(script: str, args, threads, **fields) -> dict:
    """The head of a benchmark's JSON record: the script, the machine, its load and the start time,
    the ISA, threads and timing options of the run, then `fields`."""
    return {
        "script": script,
        "machine": machine_info(),
        "load_start": loadavg(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "isa": args.isa,
        "threads": threads,
        "runs": args.runs,
        "warmup": args.warmup,
        "gap_ms": args.gap_ms,
        **fields,
    }


def set_torch_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def export_onnx(model, x) -> bytes:
    """The module's ONNX (opset 17, input "x", output "y") by the TorchScript-based exporter: the
    dynamo exporter needs onnxscript, which `bench` does not install."""
    import io
    import warnings

    import torch

    buf = io.BytesIO()
    with warnings.catch_warnings():  # "legacy TorchScript-based exporter": chosen on purpose, see above
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(model, (x,), buf, dynamo=False, opset_version=17, input_names=["x"], output_names=["y"])
    return buf.getvalue()


def ort_session(model_bytes: bytes, threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")  # see OMP_WAIT_POLICY above
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])


def ncnn_net(param: Path, weights: Path, threads: int):
    """An ncnn Net from .param/.bin files, FP32 throughout (fp16/bf16 storage off, as our code and
    the other baselines compute in FP32). Options must be set before loading."""
    import ncnn

    net = ncnn.Net()
    net.opt.num_threads = threads
    net.opt.use_fp16_storage = net.opt.use_fp16_packed = net.opt.use_fp16_arithmetic = False
    net.opt.use_bf16_storage = False
    net.opt.use_vulkan_compute = False
    net.opt.openmp_blocktime = 0  # see OMP_WAIT_POLICY above
    if net.load_param(str(param)) != 0 or net.load_model(str(weights)) != 0:
        raise RuntimeError(f"ncnn: cannot load {param} / {weights}")
    return net


def ncnn_runner(net, in_name: str, out_name: str) -> Callable[[np.ndarray], np.ndarray]:
    """x (1, C, H, W) -> y (1, C', H', W'); one extractor per call, as ncnn's examples do."""
    import ncnn

    def run(x: np.ndarray) -> np.ndarray:
        ex = net.create_extractor()
        ex.input(in_name, ncnn.Mat(np.ascontiguousarray(x[0])))
        ret, out = ex.extract(out_name)
        if ret != 0:
            raise RuntimeError(f"ncnn extract failed ({ret})")
        return np.array(out)[None]

    return run


# --- timing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timed:
    """What a callable timed by `interleaved` returns when it times itself: an engine run in
    another process (DeepSparse's worker) reports its own run time, without the pipe's latency."""

    ms: float


def interleaved(
    fns: dict[str, Callable[[], object]], runs: int = 12, warmup: int = 3, gap_s: float = 0.02
) -> dict[str, dict]:
    """Times every callable in the same rounds: each round runs each once (order rotated per round,
    so no framework always follows the same one); one returning a `Timed` is timed by its value.
    `gap_s` of idle time before each call lets the previous framework's spinning worker threads
    park (OpenMP blocktime, ORT and our pool spin)."""
    names = list(fns)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(warmup + runs):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            time.sleep(gap_s)
            start = time.perf_counter()
            out = fns[name]()
            elapsed_ms = out.ms if isinstance(out, Timed) else (time.perf_counter() - start) * 1e3
            if r >= warmup:
                times[name].append(elapsed_ms)
    return {n: {"median_ms": float(np.median(t)), "min_ms": float(np.min(t)), "runs_ms": t} for n, t in times.items()}


def add_timing_args(parser) -> None:
    """The timing options every benchmark shares: --runs, --warmup, --gap-ms, --isa."""
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--gap-ms", type=float, default=DEFAULT_GAP_MS, help="idle time before each timed call (ms)")
    parser.add_argument("--isa", default=best_isa())


def ratio(slow: float | None, fast: float | None) -> float | None:
    return None if not slow or not fast else slow / fast


def check_output(ours: np.ndarray, reference: np.ndarray, tol: float = REL_TOL) -> dict:
    """Max abs error relative to the reference's scale (max abs value)."""
    ours, reference = np.asarray(ours, np.float32), np.asarray(reference, np.float32)
    if ours.shape != reference.shape:
        return {"ok": False, "rel_err": None, "why": f"shape {ours.shape} != {reference.shape}"}
    scale = float(np.max(np.abs(reference))) or 1.0
    err = float(np.max(np.abs(ours - reference))) / scale
    return {"ok": bool(err <= tol), "rel_err": err}


def check_cell(ours_ok: bool, checks: dict) -> str:
    """A table's check column: ours ok or FAILED, then each checked framework's relative error."""
    errors = ", ".join(f"{fw} {c['rel_err']:.1e}" for fw, c in checks.items() if c.get("rel_err") is not None)
    return ("ok" if ours_ok else "**FAILED**") + (f" ({errors})" if errors else "")


# --- writers -----------------------------------------------------------------------------------


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: Path, data: dict) -> None:
    Path(path).write_text(json.dumps(_plain(data), indent=1) + "\n")


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def fmt(value, digits: int = 2, suffix: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return f"{value:.{digits}f}{suffix}"


def speedup_cell(value: float | None) -> str:
    """time(framework) / time(ours): where we lose, the table says so."""
    if value is None:
        return "—"
    return f"{value:.2f}x" if value >= 1 else f"**{value:.2f}x (we are slower)**"


def markdown_table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_line(result: dict) -> str:
    m = result.get("machine", {})
    return (
        f"Machine: {m.get('cpu')}, {m.get('cores')} cores, {m.get('compiler')}; ISA {m.get('best_isa')}. "
        f"Load average at start {result.get('load_start')}, at end {result.get('load_end')}."
    )


def write_markdown(path: Path, title: str, result: dict, sections: list[str]) -> None:
    text = [f"# {title}", "", machine_line(result), ""]
    for section in sections:
        text += [section, ""]
    Path(path).write_text("\n".join(text))


def plot_panels(path: Path, panels: list[dict]) -> None:
    """One PNG with one grouped-bar panel per dict: title, labels, series {name: values}, ylabel,
    optional hline (+ hline_label) and log. None values are left out. Without matplotlib (the
    `bench` extra) the plot is skipped with one line on stderr: the JSON and markdown, written
    before it, stand."""
    try:
        import matplotlib
    except ImportError:
        print(
            f"{Path(sys.argv[0]).name}: note: {Path(path).name} not plotted: the plot needs matplotlib, "
            "from the bench extra (pip install -e '.[bench]')",
            file=sys.stderr,
        )
        return

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    widest = max(len(p["labels"]) * max(1, len(p["series"])) for p in panels)
    fig, axes = plt.subplots(len(panels), 1, figsize=(max(7.0, 0.25 * widest), 4.0 * len(panels)), squeeze=False)
    for ax, panel in zip(axes[:, 0], panels):
        labels, series = panel["labels"], panel["series"]
        n = max(1, len(series))
        width, x = 0.8 / n, np.arange(len(labels))
        for i, (name, values) in enumerate(series.items()):
            ax.bar(x + (i - (n - 1) / 2) * width, [np.nan if v is None else v for v in values], width, label=name)
        if panel.get("hline") is not None:
            ax.axhline(panel["hline"], color="k", linestyle="--", linewidth=1, label=panel.get("hline_label", ""))
        tilt = len(labels) > 6
        ax.set_xticks(x, labels, rotation=40 if tilt else 0, ha="right" if tilt else "center", fontsize=8)
        ax.set_ylabel(panel["ylabel"])
        ax.set_title(panel["title"], fontsize=10)
        if panel.get("log"):
            ax.set_yscale("log")
        ax.legend(fontsize=7, ncol=min(4, n + 1))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def bar_plot(path: Path, title: str, labels: list[str], series: dict[str, list], ylabel: str, **kw) -> None:
    plot_panels(path, [{"title": title, "labels": labels, "series": series, "ylabel": ylabel, **kw}])
