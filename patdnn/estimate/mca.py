"""Assembly and llvm-mca: the instruction-level half of the A76 estimate (patdnn.estimate).

* `compile_to_asm` — generated (or runtime) C to aarch64 assembly with the cross compiler, the
  flags of the aarch64 build (patdnn.toolchain) and `-S`;
* `marked_loops` — the loops the C printer marked (`# LLVM-MCA-BEGIN/END <region>`, see
  patdnn.backend.c.pattern_loop.FilterLoop.mca_mark), each widened to the whole loop body: the
  marks sit inside the C loop body, so the loop's latch (index increment, bound load, compare,
  backward branch), which the compiler puts after END, is added when the branch goes back to the
  label right before BEGIN;
* `innermost_loops` — for code without marks (the runtime's dense GEMM): every single-block loop
  (a label and a later branch back to it with no label between);
* `mca_cycles` — llvm-mca's steady-state cycles per iteration of each loop (Total Cycles /
  Iterations), on the Neoverse N1 model: `-mcpu=cortex-a76` silently falls back to an A57
  model in llvm-mca 19, N1 is the A76's core.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from patdnn.runtime import RUNTIME_DIR
from patdnn.toolchain import AARCH64_CC, AARCH64_CPU, ToolchainError

LLVM_MCA = "llvm-mca-19"
MCA_CPU = "neoverse-n1"  # the A76's model in LLVM (cortex-a76 maps to an A57 model)
_CFLAGS = ["-O3", "-std=gnu11", "-ffp-contract=off", f"-mcpu={AARCH64_CPU}"]

_LABEL = re.compile(r"^(\.L\w+|[A-Za-z_]\w*):")
_BRANCH = re.compile(r"^\s+(?:b(?:\.?\w+)?|cbn?z\s+\w+,|tbn?z\s+\w+,\s*#?\w+,)\s*(\.L\w+)\s*$")
_MARK = re.compile(r"#\s*LLVM-MCA-(BEGIN|END)\s+(\S+)")
_VECTOR_LOAD = re.compile(r"^\s+(ldr|ldur|ld1|ld1r|ldp)\s+(\{?\s*)?[qv]\d")
_FMA = re.compile(r"^\s+(fmla|fmadd)\s")


@dataclass(frozen=True)
class Loop:
    name: str
    lines: tuple[str, ...]  # the instructions of one iteration

    @property
    def vector_loads(self) -> int:
        """128-bit loads per iteration (an ldp of q registers counts twice)."""
        return sum((2 if m.group(1) == "ldp" else 1) for line in self.lines if (m := _VECTOR_LOAD.match(line)))

    @property
    def fmas(self) -> int:
        return sum(1 for line in self.lines if _FMA.match(line))


def estimate_problem() -> str | None:
    """Why the estimate cannot run here (None: it can)."""
    for program, package in ((AARCH64_CC, "gcc-aarch64-linux-gnu"), (LLVM_MCA, "llvm-19")):
        if shutil.which(program) is None:
            return f"'{program}' was not found on PATH; install it with `apt-get install {package}`"
    return None


def compile_to_asm(source: Path, output: Path) -> str:
    """aarch64 assembly of `source` (cortex-a76, the aarch64 build's -O3 flags)."""
    cmd = [AARCH64_CC, *_CFLAGS, f"-I{RUNTIME_DIR}", "-S", str(source), "-o", str(output)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolchainError(f"compilation failed (exit {proc.returncode}): {' '.join(cmd)}\n{proc.stderr.strip()}")
    return Path(output).read_text()


def _instructions(lines: list[str]) -> list[str]:
    """Instruction lines only: no labels, directives, comments or the #APP / #NO_APP brackets."""
    out = []
    for line in lines:
        text = line.split("//")[0].rstrip()
        stripped = text.strip()
        if not stripped or stripped.startswith((".", "#")) or _LABEL.match(stripped):
            continue
        out.append(text)
    return out


def marked_loops(asm: str) -> dict[str, Loop]:
    """{region: its loop} of the marked regions; a region the compiler duplicated keeps its first copy."""
    lines = asm.splitlines()
    loops: dict[str, Loop] = {}
    open_at: dict[str, int] = {}
    for i, line in enumerate(lines):
        m = _MARK.search(line)
        if not m:
            continue
        which, name = m.groups()
        if which == "BEGIN":
            open_at[name] = i
            continue
        begin = open_at.pop(name, None)
        if begin is None or name in loops:
            continue
        body = lines[begin + 1 : i]
        loops[name] = Loop(name, tuple(_instructions(body + _latch(lines, begin, i))))
    return loops


def _latch(lines: list[str], begin: int, end: int) -> list[str]:
    """The lines after END up to the branch back to the loop's head label (right before BEGIN)."""
    head = None
    for j in range(begin - 1, max(begin - 8, -1), -1):
        m = _LABEL.match(lines[j])
        if m:
            head = m.group(1)
            break
    if head is None:
        return []
    for j in range(end + 1, min(end + 40, len(lines))):
        if _LABEL.match(lines[j]):
            return []
        m = _BRANCH.match(lines[j])
        if m and m.group(1) == head:
            return lines[end + 1 : j + 1]
    return []


def innermost_loops(asm: str, function: str) -> list[Loop]:
    """The single-block loops of `function` in `asm` (label, then a branch back with no label between)."""
    lines = asm.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(f"{function}:")), None)
    if start is None:
        return []
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].strip().startswith(f".size\t{function},")), len(lines)
    )
    loops, last_label = [], None
    for i in range(start + 1, end):
        m = _LABEL.match(lines[i])
        if m:
            last_label = (m.group(1), i)
            continue
        b = _BRANCH.match(lines[i])
        if b and last_label and b.group(1) == last_label[0]:
            loops.append(Loop(f"{function}{last_label[0]}", tuple(_instructions(lines[last_label[1] + 1 : i + 1]))))
    return loops


def mca_cycles(loops: list[Loop], workdir: Path) -> dict[str, float]:
    """{loop: cycles per iteration} from one llvm-mca run over all of them (one region each)."""
    text = []
    for loop in loops:
        text += [f"# LLVM-MCA-BEGIN {loop.name}", *loop.lines, f"# LLVM-MCA-END {loop.name}"]
    path = Path(workdir) / "loops.s"
    path.write_text("\n".join(text) + "\n")
    cmd = [LLVM_MCA, "-mtriple=aarch64", f"-mcpu={MCA_CPU}", "-iterations=200", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolchainError(f"llvm-mca failed (exit {proc.returncode}): {' '.join(cmd)}\n{proc.stderr.strip()}")
    cycles: dict[str, float] = {}
    for block in re.split(r"\n\[\d+\] Code Region - ", "\n" + proc.stdout)[1:]:
        name = block.split("\n", 1)[0].strip()
        iterations = int(re.search(r"^Iterations:\s+(\d+)", block, re.M).group(1))
        total = int(re.search(r"^Total Cycles:\s+(\d+)", block, re.M).group(1))
        cycles[name] = total / iterations
    if len(loops) == 1 and not cycles:  # a single region is printed without the region header
        iterations = int(re.search(r"^Iterations:\s+(\d+)", proc.stdout, re.M).group(1))
        total = int(re.search(r"^Total Cycles:\s+(\d+)", proc.stdout, re.M).group(1))
        cycles[loops[0].name] = total / iterations
    return cycles
