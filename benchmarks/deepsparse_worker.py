"""DeepSparse worker: runs INSIDE benchmarks/.venv-deepsparse (made by setup_deepsparse.sh; deepsparse
1.8.0 needs numpy<2, which the project's environment does not have) and serves the benchmark over
stdin/stdout, one JSON object per line each way, so that DeepSparse is timed in the same
interleaved rounds as the other engines (benchmarks/deepsparse_client.py is the other end).

Requests (every reply has "ok"; a failed one has "error", one line):

* {"cmd": "load", "id": ID, "onnx": PATH, "input": NPY, "num_cores": T} — compiles the ONNX model
  for batch 1 and T cores and keeps the input; replies with the engine's description;
* {"cmd": "run", "id": ID} — one `engine.run` on the kept input, timed here: {"ms": ...};
* {"cmd": "output", "id": ID, "path": NPY} — one run, its first output saved to PATH;
* {"cmd": "free", "id": ID}; {"cmd": "quit"}.

The engine's own banner and logs go to stderr: stdout carries only the replies.
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("NM_DISABLE_ANALYTICS", "1")


def main() -> None:
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything deepsparse prints lands on stderr, never in the protocol
    sys.stdout = sys.stderr
    import numpy as np
    from deepsparse import __version__, compile_model

    engines: dict[str, tuple[object, list]] = {}

    def handle(req: dict) -> dict:
        cmd = req.get("cmd")
        if cmd == "hello":
            return {"version": __version__, "numpy": np.__version__}
        if cmd == "load":
            engine = compile_model(req["onnx"], batch_size=1, num_cores=int(req["num_cores"]))
            engines[req["id"]] = (engine, [np.ascontiguousarray(np.load(req["input"]), np.float32)])
            return {"engine": " ".join(str(engine).split())}
        if cmd == "run":
            engine, inputs = engines[req["id"]]
            start = time.perf_counter()
            engine.run(inputs)
            return {"ms": (time.perf_counter() - start) * 1e3}
        if cmd == "output":
            engine, inputs = engines[req["id"]]
            np.save(req["path"], np.asarray(engine.run(inputs)[0], np.float32))
            return {}
        if cmd == "free":
            engines.pop(req["id"], None)
            return {}
        raise ValueError(f"unknown command {cmd!r}")

    for line in sys.stdin:
        req = json.loads(line)
        if req.get("cmd") == "quit":
            break
        try:
            reply = {"ok": True, **handle(req)}
        except Exception as e:  # noqa: BLE001 - every failure goes back as one line
            reply = {
                "ok": False,
                "error": f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}",
            }
        replies.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    main()
