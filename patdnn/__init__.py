"""patdnn: an xDSL-based compiler for pattern-pruned CNNs (PatDNN, ASPLOS'20).

`patdnn.compile(module, example_input)` compiles a torch module into a callable; the dialects,
passes and drivers live in `patdnn.dialects`, `patdnn.passes` and `patdnn.tools`.
"""

__version__ = "0.1.0"


def compile(*args, **kwargs):  # noqa: A001 - lazy: importing patdnn must not import torch
    """See `patdnn.api.compile`."""
    from patdnn.api import compile as compile_model

    return compile_model(*args, **kwargs)
