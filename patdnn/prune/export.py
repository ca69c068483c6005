"""The pruner's outputs that the compiler reads: the per-conv (library, ids) and the model.

`patterns.npz` holds `library` (P, 3, 3) and, per pruned conv, `ids/<module path>` (Cout, Cin)
with -1 for removed kernels; `patdnnc --patterns patterns.npz` compiles exactly these patterns
(without it, patterns are recovered from the zeros, which can merge a kernel whose kept weights
happen to be zero into another pattern).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from patdnn.sparsity.patterns import PatternInfo

IDS_PREFIX = "ids/"


def save_patterns(path: Path, patterns: dict[str, PatternInfo]) -> None:
    """Writes {conv name: (library, ids)} (one shared library) to an .npz file."""
    libraries = {lib.tobytes() for lib, _ in patterns.values()}
    if len(libraries) > 1:
        raise ValueError("all pruned convs must share one pattern library")
    library = next(iter(patterns.values()))[0] if patterns else np.zeros((0, 3, 3), np.float32)
    arrays = {f"{IDS_PREFIX}{name}": ids.astype(np.int8) for name, (_, ids) in patterns.items()}
    np.savez(path, library=library.astype(np.float32), **arrays)


def load_patterns(path: Path) -> dict[str, PatternInfo]:
    """Reads a `save_patterns` file back: {conv name: (library, ids)}; any other file is one
    ValueError ("not a patterns.npz written by patdnn prune: ...")."""
    import zipfile

    what = f"{path}: not a patterns.npz written by patdnn prune"
    try:
        data = np.load(path, allow_pickle=False)
    except ValueError:  # numpy's "Cannot load file containing pickled data ...": any non-numpy file
        raise ValueError(f"{what}: not a numpy file at all") from None
    except EOFError:
        raise ValueError(f"{what}: the file is empty") from None
    except zipfile.BadZipFile as e:
        raise ValueError(f"{what}: {e}") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{what}: a single numpy array (.npy), not an .npz archive")
    with data:
        if "library" not in data.files:
            raise ValueError(f"{what}: it has no 'library' array")
        try:
            library = data["library"]
            return {
                key[len(IDS_PREFIX) :]: (library, data[key].astype(np.int64))
                for key in data.files
                if key.startswith(IDS_PREFIX)
            }
        except (ValueError, OSError, zipfile.BadZipFile) as e:
            raise ValueError(f"{what}: {e}") from None


def export_program(model: torch.nn.Module, example_input: torch.Tensor, path: Path) -> None:
    """Saves `model` (eval mode) as a torch.export program for `patdnnc`."""
    from patdnn.frontend.torch_import import quiet_torch

    with torch.no_grad(), quiet_torch():
        program = torch.export.export(model.eval(), (example_input,), strict=False)
        torch.export.save(program, str(path))
