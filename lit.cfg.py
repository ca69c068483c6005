"""lit configuration: FileCheck tests under tests/filecheck (run `lit -v tests/filecheck`)."""

import os
import shutil

import lit.formats

config.name = "patdnn"
config.test_format = lit.formats.ShTest()
config.suffixes = [".mlir"]
config.excludes = ["Inputs", "Output", "examples", "benchmarks", "docs"]  # `lit .` runs only the tests

# patdnn-opt and filecheck are console scripts of the Python environment that runs lit.
config.environment["PATH"] = os.pathsep.join(
    p for p in (os.path.dirname(shutil.which("patdnn-opt") or ""), os.environ.get("PATH", "")) if p
)
for name in ("HOME", "PYTHONPATH", "PYENV_VERSION"):
    if name in os.environ:
        config.environment[name] = os.environ[name]
