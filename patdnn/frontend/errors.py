"""Frontend errors: one line, naming the layer and its type."""


class UnsupportedLayerError(Exception):
    def __init__(self, layer: str, kind: str, detail: str = ""):
        self.layer, self.kind = layer, kind
        super().__init__(f"unsupported layer '{layer}' ({kind}){': ' + detail if detail else ''}")
