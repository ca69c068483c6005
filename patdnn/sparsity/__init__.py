"""The sparsity vocabulary shared by the pruner, the compiler (frontend, LR, passes, backends) and
the scheme-mapping tools — owned by none of them, and importing none of them (numpy and torch only).

* `scheme`   — a layer's pruning `Scheme` (dense | pattern | block), its one-line text form
  (`parse_scheme`, the LR's `prune` line) and the IR attribute that carries it (`PRUNE_ATTR`);
* `plan`     — a plan, {layer name: Scheme}, and its JSON form (`save_plan`; reading a plan
  file of either kind, .json or .lr, is `patdnn.lr.load_plan`, which needs the LR parser);
* `layers`   — the layers a plan talks about: shapes of a model's convs/linears, which are
  prunable, the exact kept weights per scheme (plan rates), and the model's pattern convs;
* `patterns` — kernel patterns: candidate and natural patterns, the pattern library of a model
  (`extract_library`), the two PatDNN projections, and `PatternInfo` (a layer's library + ids);
* `block`    — block-based pruning on a layer's GEMM view: projection, masks, packed form;
* `apply`    — one-shot projection of a layer or a whole plan onto a torch model (no training);
* `fkw`      — FKW (filter-kernel-weight) order of pattern weights: packing and index arrays;
* `blob`     — the one writer of weights blobs (64-byte aligned segments, sha256-named).
"""

from patdnn.sparsity.scheme import Scheme, SchemeError, SchemeKind, parse_scheme

__all__ = ["Scheme", "SchemeError", "SchemeKind", "parse_scheme"]
