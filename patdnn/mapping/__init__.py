"""Per-layer scheme mapping (Gong et al., "Automatic Mapping of the Best-Suited DNN Pruning
Schemes for Real-Time Mobile Acceleration"): which scheme each layer of a model gets, and at what
rate — used by `patdnn map`, `patdnn prune --schemes rule|search` and benchmarks/bench_schemes.py.

* `rules`   — rule-based mapping (`rule_plan`, a rules table from layer shapes);
* `search`  — search-based mapping (`search_plan`: latency + λ·accuracy proxy under the rate);
* `latency` — per-layer latency of a scheme: a cost model, or measured single-layer compiles.

Decision (issue 15): the vocabulary the mapping speaks (Scheme, Plan, layer shapes and kept
weights, the one-shot projection) is `patdnn.sparsity`; this package holds only the choice of
schemes. It sits above the compiler and the pruner's vocabulary: it imports `patdnn.sparsity`
and `patdnn.api` (measured latency compiles single layers), never `patdnn.prune`, so the pruner
may call it (`patdnn.prune.planning` imports `rules` / `search` when a spec asks for them).
"""
