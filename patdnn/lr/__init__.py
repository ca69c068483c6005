"""LR, the layerwise representation: the researcher-facing text of a compiled model.

    print_lr(module, weights_dir, out_lr)   IR → `out_lr` + a fresh blob `<name>.weights` beside it
    parse_lr(text, filename)                LR text → LrModel (LrSyntaxError on mistakes)
    lr_to_ir(model, weights_dir)            LrModel + its blob → verified IR module
    prune_plan(text, filename)              LR text → {layer name: Scheme} from its `prune` lines
    load_plan(path)                         a plan file (.json, or .lr with `prune` lines) → {layer: Scheme}

The grammar is `grammar.lark`; the tables shared by printer, parser and IR builder are in
`syntax.py` (ops and their fields, schedule keys) and `fields.py` (fields ↔ IR properties).
"""

from patdnn.lr.errors import LrError, LrSyntaxError
from patdnn.lr.parser import parse_lr, prune_plan
from patdnn.lr.plans import load_plan
from patdnn.lr.printer import format_lr, module_to_lr, print_lr
from patdnn.lr.syntax import LrModel
from patdnn.lr.to_ir import lr_to_ir

__all__ = [
    "LrError",
    "LrModel",
    "LrSyntaxError",
    "format_lr",
    "load_plan",
    "lr_to_ir",
    "module_to_lr",
    "parse_lr",
    "print_lr",
    "prune_plan",
]
