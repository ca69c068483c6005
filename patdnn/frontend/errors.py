"""Frontend errors: one line, naming the layer and its type."""


class UnsupportedLayerError(Exception):
    def __init__(self, layer: str, kind: str, detail: str = ""):
        self.layer, self.kind = layer, kind
        super().__init__(f"unsupported layer '{layer}' ({kind}){': ' + detail if detail else ''}")


class ModelFileError(ValueError):
    """A model file (or ModelProto) that cannot be imported at all: one line saying why."""


class ModelInputError(ValueError):
    """The model or its example input is not something patdnn compiles: one line saying why."""


class ModelTypeError(ModelInputError, TypeError):
    """A model or example input of the wrong Python type (also a TypeError)."""
