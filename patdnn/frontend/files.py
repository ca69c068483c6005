"""What a model file is, from its content (magic bytes, zip members, first text bytes), not only
its suffix: the importers then get only files they can read, and everything else is one line
(a ModelFileError) saying what the file looks like."""

from __future__ import annotations

import zipfile
from pathlib import Path

from patdnn.frontend.errors import ModelFileError

SUFFIXES = {".pt2": "pt2", ".onnx": "onnx", ".mlir": "mlir", ".lr": "lr"}
WHAT = {
    "pt2": "a torch.export program (torch.export.save)",
    "onnx": "an ONNX model",
    "mlir": "MLIR text (patdnn IR)",
    "lr": "patdnn LR text",
}
NEEDED = "patdnnc needs torch.export (torch.export.save) or ONNX"
_SNIFF_BYTES = 4096


def _zip_kind(path: Path) -> tuple[str | None, str]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError):
        return None, "a truncated or damaged zip archive"
    leaves = {name.split("/", 1)[-1] for name in names}
    if "archive_format" in leaves or any(n.endswith("serialized_exported_program.json") for n in names):
        return "pt2", WHAT["pt2"]
    if "constants.pkl" in leaves and any(n.split("/", 1)[-1].startswith("code/") for n in names):
        return None, f"a TorchScript file: {NEEDED}"
    if "data.pkl" in leaves:
        return None, f"a torch.save file (a state_dict or a pickled module, not a program): {NEEDED}"
    return None, "a zip archive that is not a torch.export program"


def _text_kind(head: bytes) -> tuple[str | None, str] | None:
    """The kind of a text file from its first bytes; None when they are not text."""
    if b"\0" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4:  # not just a character cut at the sniffed length
            return None
        text = head[: e.start].decode("utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0] if lines else ""
    if first.startswith("# patdnn LR") or first.startswith("model "):
        return "lr", WHAT["lr"]
    code = [line for line in lines if not line.startswith("//")]
    if code and code[0].startswith(("builtin.module", '"builtin.module"', "module", "func.func", "#")):
        return "mlir", WHAT["mlir"]
    return "text", "a text file"


def _onnx_kind(path: Path) -> tuple[str | None, str] | None:
    """("onnx", ...) when the file parses as an ONNX ModelProto with a graph; None otherwise."""
    import onnx

    try:
        model = onnx.load_model(str(path), load_external_data=False)
    except Exception:  # protobuf's DecodeError, or anything a damaged file raises
        return None
    if model.ir_version <= 0 or not model.HasField("graph") or not model.graph.node:
        return None
    return "onnx", WHAT["onnx"]


def identify(path: Path) -> tuple[str | None, str]:
    """(kind, what it looks like): kind is one of SUFFIXES' values, "text" (text of no known kind)
    or None (nothing patdnn reads)."""
    with open(path, "rb") as f:
        head = f.read(_SNIFF_BYTES)
    if not head:
        return None, "an empty file"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(path)
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return None, f"a pickle (a legacy torch.save file?): {NEEDED}"
    text = _text_kind(head)
    if text is not None:
        return text
    if head[:1] == b"\x08":  # ONNX ModelProto: field 1 (ir_version, a varint) first
        onnx_kind = _onnx_kind(path)
        if onnx_kind is not None:
            return onnx_kind
        return None, "binary data that is not a valid ONNX ModelProto (truncated or damaged?)"
    return None, "binary data of no kind patdnn reads"


def check_model_file(path: Path) -> str:
    """The kind of the model file `path` (see SUFFIXES), checked against its content; a one-line
    ModelFileError for a directory, an unknown suffix, or content that is not what the suffix says."""
    path = Path(path)
    expected = ", ".join(SUFFIXES)
    if path.is_dir():
        raise ModelFileError(f"{path} is a directory, not a model file ({expected})")
    if not path.exists():
        raise ModelFileError(f"model file {path} does not exist")
    kind, looks = identify(path)
    wanted = SUFFIXES.get(path.suffix)
    if wanted is None:
        hint = f"; it looks like {looks}" + (
            f" (rename it {path.with_suffix(_suffix(kind)).name})" if kind in WHAT else ""
        )
        raise ModelFileError(f"{path}: unsupported model suffix '{path.suffix}' (expected {expected}){hint}")
    if kind == wanted or (wanted in ("mlir", "lr") and kind == "text"):
        return wanted  # (text of no known kind: the parser says what is wrong with it)
    if wanted == "onnx" and kind is None and looks.startswith("binary data"):
        looks = "binary data that does not parse as an ONNX ModelProto (truncated or damaged?)"
    rename = f" (rename it {path.with_suffix(_suffix(kind)).name})" if kind in WHAT else ""
    raise ModelFileError(f"{path} is not {WHAT[wanted]}: it looks like {looks}{rename}")


def _suffix(kind: str) -> str:
    return next(suffix for suffix, k in SUFFIXES.items() if k == kind)
