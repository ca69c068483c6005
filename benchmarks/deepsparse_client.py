"""DeepSparse as a baseline: the benchmark's side of benchmarks/deepsparse_worker.py.

DeepSparse 1.8.0 lives in its own virtual environment (benchmarks/setup_deepsparse.sh; it needs
numpy<2), so the benchmark starts one long-lived worker process in that venv and talks to it over
a pipe. `DeepSparseWorker.engine(onnx_bytes, x, threads)` compiles the ONNX export of the module in
the worker and returns a `DeepSparseEngine`: calling it runs the engine once in the worker and
returns a `common.Timed` with the worker's own measurement (the pipe's latency is not counted), so
it can sit in `common.interleaved` next to the in-process engines; `.output()` is the output for
the correctness check against PyTorch.

Without the venv, `start_worker()` says so in one line (on stderr) and returns None: the benchmark
lists DeepSparse under "Not measured" and goes on.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.common import Timed

HERE = Path(__file__).resolve().parent
DEFAULT_VENV = HERE / ".venv-deepsparse"
WORKER = HERE / "deepsparse_worker.py"


def venv_python() -> Path:
    """The venv's interpreter: $PATDNN_DEEPSPARSE_VENV, else benchmarks/.venv-deepsparse."""
    return Path(os.environ.get("PATDNN_DEEPSPARSE_VENV", DEFAULT_VENV)) / "bin" / "python"


class DeepSparseError(RuntimeError):
    """The worker refused a request (the message is its one-line reason)."""


class DeepSparseWorker:
    def __init__(self, python: Path):
        env = {**os.environ, "NM_DISABLE_ANALYTICS": "1"}
        # The worker's stderr (DeepSparse's banner, its logs) goes to a file, read back on failure.
        self.log = tempfile.NamedTemporaryFile(prefix="patdnn-deepsparse-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [str(python), str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            bufsize=1,
            env=env,
        )
        self.tmp = tempfile.TemporaryDirectory(prefix="patdnn-deepsparse-")
        self.ids = itertools.count()
        self.version = self.request(cmd="hello")["version"]

    def request(self, **req) -> dict:
        if self.proc.poll() is not None:
            raise DeepSparseError(f"the DeepSparse worker exited ({self.proc.returncode}); see {self.log.name}")
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise DeepSparseError(f"the DeepSparse worker died; its log: {self.log.name}")
        reply = json.loads(line)
        if not reply.pop("ok"):
            raise DeepSparseError(reply["error"])
        return reply

    def engine(self, onnx_model: bytes, x: np.ndarray, threads: int) -> DeepSparseEngine:
        """DeepSparse compiles `onnx_model` (batch 1) for `threads` cores; `x` is its input."""
        key = f"e{next(self.ids)}"
        model, inp = Path(self.tmp.name) / f"{key}.onnx", Path(self.tmp.name) / f"{key}-in.npy"
        model.write_bytes(onnx_model)
        np.save(inp, np.ascontiguousarray(x, np.float32))
        reply = self.request(cmd="load", id=key, onnx=str(model), input=str(inp), num_cores=threads)
        return DeepSparseEngine(self, key, reply["engine"])

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
        self.tmp.cleanup()
        self.log.close()
        os.unlink(self.log.name)


class DeepSparseEngine:
    def __init__(self, worker: DeepSparseWorker, key: str, description: str):
        self.worker, self.key, self.description = worker, key, description

    def __call__(self) -> Timed:
        return Timed(self.worker.request(cmd="run", id=self.key)["ms"])

    def output(self) -> np.ndarray:
        path = Path(self.worker.tmp.name) / f"{self.key}-out.npy"
        self.worker.request(cmd="output", id=self.key, path=str(path))
        return np.load(path)

    def free(self) -> None:
        self.worker.request(cmd="free", id=self.key)


_worker: DeepSparseWorker | None = None
_why_not: str | None = None


def start_worker() -> DeepSparseWorker | None:
    """The process's one worker (started on first use), or None with one line on stderr saying why
    (`why_not()` repeats it for the "Not measured" lists)."""
    global _worker, _why_not
    if _worker is not None or _why_not is not None:
        return _worker
    python = venv_python()
    if not python.is_file():
        _why_not = f"DeepSparse not measured: no venv at {python.parent.parent} (run benchmarks/setup_deepsparse.sh)"
    else:
        try:
            _worker = DeepSparseWorker(python)
            atexit.register(stop_worker)
        except (OSError, DeepSparseError) as e:
            _why_not = f"DeepSparse not measured: its worker did not start ({e})"
    if _why_not:
        print(f"{Path(sys.argv[0]).name}: {_why_not}", file=sys.stderr)
    return _worker


def why_not() -> str:
    return _why_not or ""


def stop_worker() -> None:
    global _worker
    if _worker is not None:
        _worker.close()
        _worker = None


def add_checked_engine(
    runners: dict, missing: dict, checks: dict, name: str, onnx_model: bytes | None, x, threads: int, reference, tol
) -> None:
    """DeepSparse on `onnx_model` as framework `name`: its output checked against the PyTorch
    `reference` (max abs error / max |reference| <= tol) into `checks[name]`, then added to
    `runners` for timing; or the one-line reason it is not timed in `missing[name]`."""
    from benchmarks.common import check_output

    worker = start_worker()
    if worker is None:
        missing[name] = why_not()
        return
    if onnx_model is None:
        missing[name] = "no ONNX export"
        return
    try:
        engine = worker.engine(onnx_model, x, threads)
        checks[name] = check = check_output(engine.output().reshape(np.shape(reference)), reference, tol)
    except (DeepSparseError, ValueError) as e:
        missing[name] = f"DeepSparse failed: {e}"
        return
    if check["ok"]:
        runners[name] = engine
    else:
        missing[name] = f"output differs from torch (rel err {check.get('rel_err')})"


def free_engines(runners: dict) -> None:
    """Frees, in the worker, the engines among `runners` (after a record's timing)."""
    for runner in runners.values():
        if isinstance(runner, DeepSparseEngine):
            runner.free()


def version() -> str:
    """For the JSON record: the worker's DeepSparse version, or why it was not measured."""
    return f"deepsparse {_worker.version}" if _worker is not None else why_not() or "not started"
