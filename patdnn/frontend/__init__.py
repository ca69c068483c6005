"""PyTorch / ONNX → patdnn IR (torch.export based; ONNX through the same layer graph). See
`patdnn.frontend.torch_import` and `patdnn.frontend.onnx_import`."""

from typing import Any

from patdnn.frontend.errors import ModelFileError, ModelInputError, ModelTypeError, UnsupportedLayerError
from patdnn.frontend.torch_import import check_example_input, import_exported_program, import_module

__all__ = [
    "ModelFileError",
    "ModelInputError",
    "ModelTypeError",
    "UnsupportedLayerError",
    "check_example_input",
    "import_exported_program",
    "import_module",
    "import_onnx",
]


def __getattr__(name: str) -> Any:
    """`import_onnx` on first use: `import onnx` costs ~0.7 s that torch-only users do not pay."""
    if name == "import_onnx":
        from patdnn.frontend.onnx_import import import_onnx

        return import_onnx
    raise AttributeError(f"module 'patdnn.frontend' has no attribute '{name}'")
