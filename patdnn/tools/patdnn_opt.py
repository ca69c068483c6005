"""`patdnn-opt`: xdsl-opt with patdnn's dialects, passes and targets registered.

Flags follow mlir-opt / xdsl-opt: `-p pass1,pass2{opt=v}`, `-t c{isa=neon}`, `--print-op-generic`,
`--split-input-file`, `--verify-diagnostics`, `-o FILE`. User mistakes (bad IR, a failing verifier,
an unknown pass or option) are reported as one diagnostic on stderr with exit code 1, never as a
Python traceback. Values a pass or printer changes (a tile rounded to the vector width) are one
`note: ...` line each on stderr (patdnn.notes). `--help` ends with patdnn's passes and their
options and patdnn's targets, generated from the pass dataclasses' fields and docstrings.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import MISSING, fields

from xdsl.utils.arg_spec import ArgSpecParseError
from xdsl.utils.exceptions import DiagnosticException, ParseError
from xdsl.xdsl_opt_main import xDSLOptMain

from patdnn.dialects import get_all_dialects
from patdnn.isa import ISAS
from patdnn.notes import printing_notes
from patdnn.passes import get_all_passes
from patdnn.pipeline import check_pass_spec

DESCRIPTION = """patdnn's modular optimizer: parses pattern/kernel-dialect IR, runs passes, prints IR or code.

examples:
  patdnn-opt layer.mlir                                  verify and print the IR
  patdnn-opt layer.mlir -p lower-pattern-to-kernel       lower to the register-level kernel dialect
  patdnn-opt layer.mlir -p lower-pattern-to-kernel -t neon -o layer.c
  patdnn-opt layer.mlir -p lower-pattern-to-kernel -t 'avx512{threads=2}' -o layer.c
  patdnn-opt layer.mlir -p lower-pattern-to-kernel,plan-buffers -t opencl -o layer.c
"""


def field_docs(cls: type) -> dict[str, str]:
    """The docstrings under a dataclass's fields (`x: int = 0` then `\"\"\"doc\"\"\"`), read from its
    source (Python keeps no attribute docstrings), for every class of its MRO that has source."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for stmt, after in zip(body, body[1:]):
            if (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                docs[stmt.target.id] = " ".join(after.value.value.split())
    return docs


def _first_line(doc: str | None) -> str:
    return " ".join((doc or "").strip().split("\n\n")[0].split())


def _options(cls: type, skip: tuple[str, ...] = ()) -> list[str]:
    docs = field_docs(cls)
    lines = []
    for f in fields(cls):
        if not f.init or f.name in ("name", *skip):
            continue
        value = f.default
        default = (
            ""
            if value is MISSING
            else "="
            + (
                str(value).lower()
                if isinstance(value, bool)
                else f'"{value}"'
                if isinstance(value, str)
                else str(value)
            )
        )
        lines.append(f"      {f.name}{default}: {docs.get(f.name, '')}".rstrip(": "))
    return lines


def patdnn_help() -> str:
    """The --help epilog: patdnn's passes (one line each, then their options) and targets."""
    out = ["patdnn passes (-p NAME{option=value ...}; the others above are xDSL's):"]
    for name, factory in get_all_passes().items():
        cls = factory()
        out.append(f"  {name}: {_first_line(cls.__doc__)}")
        out += _options(cls)
    import patdnn.target
    from patdnn.backend.c import CTarget
    from patdnn.backend.opencl import OpenCLTarget

    doc = patdnn.target.__doc__ or ""
    examples = [line for line in doc.splitlines() if line.startswith("    ")]
    out += ["", "patdnn targets (-t TARGET, the string form of patdnnc --target; see docs/targets.md):"]
    out += [line[2:] for line in examples]
    out.append(f"  target options: {', '.join(patdnn.target.Target.OPTIONS)}")
    for cls, head in ((CTarget, "C targets"), (OpenCLTarget, "opencl")):
        out.append(f"  printer options of {head} (-t 'TARGET{{option=value}}'):")
        out += _options(cls, skip=("target",))
    return "\n".join(out)


class PatdnnOptMain(xDSLOptMain):
    def __init__(self, args: Sequence[str] | None = None):
        super().__init__(description=DESCRIPTION, args=args)

    def register_all_arguments(self, arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.formatter_class = argparse.RawDescriptionHelpFormatter  # keep the examples' layout
        arg_parser.epilog = patdnn_help()
        super().register_all_arguments(arg_parser)

    def setup_pipeline(self) -> None:
        """Checks patdnn's pass options first (`tile-tune: option tile_x takes an integer, got 'abc'`)."""
        check_pass_spec(self.args.passes)
        super().setup_pipeline()

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
        with printing_notes():
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
