"""A layer's pruning scheme and its text form (used in the LR's `prune` line, plans and reports).

dense                    keep every weight
pattern 3.6x             3x3 pattern pruning (the model's pattern library) + connectivity
                         pruning keeping 1/3.6 of the kernels
block 8x16 4x            block-punched pruning: the GEMM view (Cout x Cin*KH*KW) cut into
                         8-filter x 16-column blocks, each keeping the 1/4 of its columns
                         with the largest norm (the same kernel positions in all 8 filters)
block 8x16 4x rows       block-row pruning: each block keeps 1/4 of its rows (filter segments)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum


class SchemeError(ValueError):
    """A scheme that cannot be parsed or does not fit its layer (a user mistake: no traceback)."""


class SchemeKind(StrEnum):
    DENSE = "dense"
    PATTERN = "pattern"
    BLOCK = "block"


class BlockStructure(StrEnum):
    COLUMNS = "columns"  # block-punched: whole columns of a block (same positions in all its filters)
    ROWS = "rows"  # whole rows of a block (one filter's segment)


@dataclass(frozen=True)
class Scheme:
    kind: SchemeKind
    rate: float = 1.0  # pattern: connectivity rate; block: 1 / kept fraction per block
    block: tuple[int, int] | None = None  # block: (filters, columns) of the GEMM view
    structure: BlockStructure = BlockStructure.COLUMNS

    def __post_init__(self) -> None:
        if not (self.rate >= 1.0 and math.isfinite(self.rate)):
            raise SchemeError(f"rate {self.rate} must be a finite number >= 1")
        if self.kind == SchemeKind.BLOCK:
            if self.block is None or min(self.block) < 1:
                raise SchemeError(f"a block scheme needs a block size of positive integers, got {self.block}")
        elif self.block is not None:
            raise SchemeError(f"only block schemes have a block size ({self.kind} has {self.block})")
        if self.kind == SchemeKind.DENSE and self.rate != 1.0:
            raise SchemeError("a dense scheme has rate 1")

    @staticmethod
    def dense() -> Scheme:
        return Scheme(SchemeKind.DENSE)

    @staticmethod
    def pattern(connectivity: float) -> Scheme:
        return Scheme(SchemeKind.PATTERN, float(connectivity))

    @staticmethod
    def blocks(rows: int, cols: int, rate: float, structure: str = "columns") -> Scheme:
        return Scheme(SchemeKind.BLOCK, float(rate), (int(rows), int(cols)), BlockStructure(structure))

    def weight_rate(self, kernel_size: tuple[int, int] = (3, 3), entries: int = 4) -> float:
        """How many times fewer weights the layer keeps (pattern: the kernel's KH*KW / entries too)."""
        if self.kind == SchemeKind.PATTERN:
            return self.rate * kernel_size[0] * kernel_size[1] / entries
        return self.rate

    def __str__(self) -> str:
        if self.kind == SchemeKind.DENSE:
            return "dense"
        rate = f"{_number(self.rate)}x"
        if self.kind == SchemeKind.PATTERN:
            return f"pattern {rate}"
        assert self.block is not None
        text = f"block {self.block[0]}x{self.block[1]} {rate}"
        return text if self.structure == BlockStructure.COLUMNS else f"{text} {self.structure.value}"


def _number(value: float) -> str:
    return f"{value:g}"


_RATE = r"(\d+(?:\.\d+)?)x"
_FORMS = (
    (re.compile(r"dense"), lambda m: Scheme.dense()),
    (re.compile(rf"pattern\s+{_RATE}"), lambda m: Scheme.pattern(float(m[1]))),
    (
        re.compile(rf"block\s+(\d+)x(\d+)\s+{_RATE}(?:\s+(columns|rows))?"),
        lambda m: Scheme.blocks(int(m[1]), int(m[2]), float(m[3]), m[4] or "columns"),
    ),
)


def parse_scheme(text: str) -> Scheme:
    """Parses the text form (see the module docstring); raises SchemeError with what was expected."""
    cleaned = " ".join(text.split())
    for regex, build in _FORMS:
        match = regex.fullmatch(cleaned)
        if match:
            return build(match)
    raise SchemeError(
        f"cannot read pruning scheme '{text}': expected 'dense', 'pattern <rate>x' or "
        f"'block <filters>x<columns> <rate>x [columns|rows]' (e.g. 'block 8x16 4x')"
    )


PRUNE_ATTR = "patdnn.prune"
"""Discardable StringAttr on a conv/linear op: its pruning scheme in text form (the LR's `prune` line)."""
