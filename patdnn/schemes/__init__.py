"""Per-layer pruning schemes (Gong et al., "Automatic Mapping of the Best-Suited DNN Pruning
Schemes for Real-Time Mobile Acceleration"): which scheme each layer uses, and at what rate.

* `scheme`  — the `Scheme` value (dense | pattern | block) and its one-line text form, shared by
  the pruner, the compiler, the LR and the mapping tools;
* `block`   — block-based fine-grained structured pruning on a layer's GEMM view (block-punched
  columns or block rows) and the compact per-block column lists the compiler stores.
* `plan`    — {layer: Scheme} plans and their JSON form;
* `layers`  — layer shapes of a model and the exact kept weights per scheme (the plans' rates);
* `rules`   — rule-based mapping (`rule_plan`, a rules table from layer shapes);
* `search`  — search-based mapping (`search_plan`: latency + λ·accuracy proxy under the rate);
* `latency` — per-layer latency of a scheme: a cost model, or measured single-layer compiles;
* `apply`   — one-shot projection of a whole plan onto a torch model.
"""

from patdnn.schemes.scheme import Scheme, SchemeError, SchemeKind, parse_scheme

__all__ = ["Scheme", "SchemeError", "SchemeKind", "parse_scheme"]
