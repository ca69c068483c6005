"""The patdnn C runtime (headers and sources), shipped as package data.

Generated code includes ``patdnn_runtime.h`` and links against the ``*.c`` files here.
"""

from pathlib import Path

RUNTIME_DIR = Path(__file__).resolve().parent
