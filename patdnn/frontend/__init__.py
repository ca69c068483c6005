"""PyTorch → patdnn IR (torch.export based). See `patdnn.frontend.torch_import`."""

from patdnn.frontend.errors import UnsupportedLayerError
from patdnn.frontend.torch_import import import_exported_program, import_module

__all__ = ["UnsupportedLayerError", "import_module", "import_exported_program"]
