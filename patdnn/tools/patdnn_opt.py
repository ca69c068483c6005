"""`patdnn-opt`: xdsl-opt with patdnn's dialects, passes and targets registered.

Flags follow mlir-opt / xdsl-opt: `-p pass1,pass2{opt=v}`, `-t c{isa=neon}`, `--print-op-generic`,
`--split-input-file`, `--verify-diagnostics`, `-o FILE`. User mistakes (bad IR, a failing verifier,
an unknown pass or option) are reported as one diagnostic on stderr with exit code 1, never as a
Python traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from xdsl.utils.arg_spec import ArgSpecParseError
from xdsl.utils.exceptions import DiagnosticException, ParseError
from xdsl.xdsl_opt_main import xDSLOptMain

from patdnn.dialects import get_all_dialects
from patdnn.isa import ISAS
from patdnn.passes import get_all_passes

DESCRIPTION = """patdnn's modular optimizer: parses pattern/kernel-dialect IR, runs passes, prints IR or code.

examples:
  patdnn-opt layer.mlir                                  verify and print the IR
  patdnn-opt layer.mlir -p lower-pattern-to-kernel       lower to the register-level kernel dialect
  patdnn-opt layer.mlir -p lower-pattern-to-kernel -t neon -o layer.c
  patdnn-opt layer.mlir -p lower-pattern-to-kernel -t 'avx512{threads=2}' -o layer.c
  patdnn-opt layer.mlir -p lower-pattern-to-kernel,plan-buffers -t opencl -o layer.c
"""


class PatdnnOptMain(xDSLOptMain):
    def __init__(self, args: Sequence[str] | None = None):
        super().__init__(description=DESCRIPTION, args=args)

    def register_all_arguments(self, arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.formatter_class = argparse.RawDescriptionHelpFormatter  # keep the examples' layout
        super().register_all_arguments(arg_parser)

    def register_all_dialects(self) -> None:
        super().register_all_dialects()
        for name, factory in get_all_dialects().items():
            self.ctx.register_dialect(name, factory)

    def register_all_passes(self) -> None:
        super().register_all_passes()
        for name, factory in get_all_passes().items():
            self.register_pass(name, factory)

    def register_all_targets(self) -> None:
        """The C printer under every C target's head (`-t avx512{threads=2}`, `-t c{isa=neon}`,
        `-t auto`) and the OpenCL printer under `opencl`: the Target strings of patdnn/target.py."""
        super().register_all_targets()

        def c_target():
            from patdnn.backend.c import CTarget

            return CTarget

        def opencl_target():
            from patdnn.backend.opencl import OpenCLTarget

            return OpenCLTarget

        for head in ("c", "auto", *ISAS):
            self.available_targets[head] = c_target
        self.available_targets["opencl"] = opencl_target


def main(args: Sequence[str] | None = None) -> int:
    try:
        PatdnnOptMain(args).run()
    except ParseError as e:
        print(e, file=sys.stderr)
        return 1
    except DiagnosticException as e:
        print(f"error: {e}", file=sys.stderr)
        for note in getattr(e, "__notes__", []):
            print(note, file=sys.stderr)
        return 1
    except ArgSpecParseError as e:  # a BaseException: malformed pass/target options
        print(f"error: malformed option string: {e}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
