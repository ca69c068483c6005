"""patdnn's xDSL dialects; `get_all_dialects()` maps dialect names to lazy factories."""

from collections.abc import Callable

from xdsl.ir import Dialect


def get_all_dialects() -> dict[str, Callable[[], Dialect]]:
    def pattern_dialect() -> Dialect:
        from patdnn.dialects.pattern import Pattern

        return Pattern

    def kernel_dialect() -> Dialect:
        from patdnn.dialects.kernel import Kernel

        return Kernel

    def block_dialect() -> Dialect:
        from patdnn.dialects.block import Block

        return Block

    return {
        "pattern": pattern_dialect,
        "block": block_dialect,
        "kernel": kernel_dialect,
        "nn": lambda: __import__("patdnn.dialects.nn", fromlist=["NN"]).NN,
    }
