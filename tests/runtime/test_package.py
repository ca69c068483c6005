"""`patdnnc --emit package`: the folder builds with CMake (host, and aarch64 with its toolchain file
under qemu), its runner, example and C API match PyTorch, and the API reports shapes and errors."""

from __future__ import annotations

import contextlib
import io
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from patdnn.testing import need_program, need_toolchain
from patdnn.toolchain import run_executable

IN_SHAPE, OUT_SHAPE = (1, 3, 8, 8), (1, 10)


class Tiny(torch.nn.Module):
    """Three 3x3 convs (two pattern-pruned; the 3-channel stem stays dense) and a linear layer."""

    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = torch.nn.Conv2d(8, 8, 3, padding=1)
        self.c3 = torch.nn.Conv2d(8, 8, 3, padding=1, stride=2)
        self.fc = torch.nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        x = torch.relu(self.c1(x))
        x = torch.relu(self.c2(x))
        x = torch.relu(self.c3(x))
        return self.fc(torch.flatten(x, 1))


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """(package folder, files patdnnc printed, input, PyTorch's output) for Tiny, target neon."""
    from patdnn.prune import one_shot_pattern_prune
    from patdnn.tools.patdnnc import main

    torch.manual_seed(0)
    model = Tiny().eval()
    assert set(one_shot_pattern_prune(model, num_patterns=4, connectivity=2.0)) == {"c2", "c3"}
    x = torch.randn(*IN_SHAPE)
    d = tmp_path_factory.mktemp("package")
    torch.export.save(torch.export.export(model, (x,), strict=False), str(d / "tiny.pt2"))
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main([str(d / "tiny.pt2"), "-o", str(d / "pkg"), "--emit", "package", "--target", "neon"]) == 0
    x.numpy().tofile(d / "in.bin")
    with torch.no_grad():
        expected = model(x).numpy()
    return d / "pkg", [Path(line) for line in stdout.getvalue().split()], d / "in.bin", expected


def _cmake(source: Path, build: Path, *options: str) -> Path:
    need_program("cmake", "cmake")
    for cmd in (["cmake", "-S", source, "-B", build, *options], ["cmake", "--build", build, "--parallel", "2"]):
        proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return build


@pytest.fixture(scope="module")
def host_build(package, tmp_path_factory):
    need_toolchain("host", "neon")
    return _cmake(package[0], tmp_path_factory.mktemp("build"))


def _outputs(exe: Path, args: list, tmp: Path, name: str, target: str = "host") -> np.ndarray:
    out = tmp / name
    proc = run_executable(exe, [*args, out], target=target, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return np.fromfile(out, dtype=np.float32).reshape(OUT_SHAPE)


def _assert_close(actual: np.ndarray, expected: np.ndarray) -> None:
    assert float(np.abs(actual - expected).max()) <= 1e-4 * float(np.abs(expected).max())


def test_layout_and_the_listing(package):
    pkg, listed, _, _ = package
    wanted = ["include/tiny.h", "src/model.c", "model.weights", "CMakeLists.txt", "cmake/aarch64-linux-gnu.cmake"]
    wanted += ["example.c", "README.md", "runtime/model_api.c", "runtime/runner_main.c", "runtime/patdnn_neon.h"]
    for relative in wanted:
        assert pkg / relative in listed and (pkg / relative).is_file(), relative
    assert all(p.is_file() for p in listed)
    assert not (pkg / "runtime" / "opencl.c").exists()  # a C target: no OpenCL runtime
    cmake = (pkg / "CMakeLists.txt").read_text()
    assert "-ffp-contract=off" in cmake and "-march=x86-64-v3" in cmake and "-mcpu=cortex-a76" in cmake
    assert "simde/arm/neon.h" in cmake and "Threads::Threads m" in cmake
    assert "input 0: 1x3x8x8 f32" in (pkg / "include" / "tiny.h").read_text()


def test_the_header_is_plain_c99(package, tmp_path):
    need_toolchain("host", "scalar")
    header = (package[0] / "include" / "tiny.h").read_text()
    assert "pdnn" not in header and "patdnn_" not in header  # no runtime names leak
    src = tmp_path / "use.c"
    src.write_text('#include "tiny.h"\nint main(void) { return tiny_num_inputs() == 1 ? 0 : 1; }\n')
    cmd = ["gcc", "-std=c99", "-pedantic-errors", "-Wall", "-Wextra", "-Werror", "-fsyntax-only"]
    proc = subprocess.run([*cmd, f"-I{package[0] / 'include'}", str(src)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_host_runner_and_example_match_pytorch(package, host_build, tmp_path):
    pkg, _, x, expected = package
    y = _outputs(host_build / "model_run", ["--weights-dir", pkg, "--threads", "2", x], tmp_path, "run.bin")
    _assert_close(y, expected)
    example = _outputs(host_build / "example", [pkg / "model.weights", 2, x], tmp_path, "example.bin")
    assert np.array_equal(example, y)
    help_text = run_executable(host_build / "model_run", ["--help"]).stdout
    assert "input 0: 1x3x8x8 f32 (192 values)" in help_text and "output 0: 1x10 f32 (10 values)" in help_text


APP = """#include <stdio.h>
#include <string.h>
#include "tiny.h"

static void dims(const char *kind, int rank, const int64_t *d) {
  printf("%s", kind);
  for (int i = 0; i < rank; i++) printf(" %lld", (long long)d[i]);
  printf("\\n");
}

int main(int argc, char **argv) {
  char error[256];
  float in[192] = {0}, out[10];
  printf("counts %d %d sizes %lld %lld\\n", tiny_num_inputs(), tiny_num_outputs(), (long long)tiny_input_size(0),
         (long long)tiny_output_size(0));
  dims("input", tiny_input_rank(0), tiny_input_dims(0));
  dims("output", tiny_output_rank(0), tiny_output_dims(0));
  printf("out of range %d %d %lld\\n", tiny_input_rank(1), tiny_input_dims(-1) == NULL, (long long)tiny_output_size(1));
  for (int i = 1; i < argc - 1; i++) { /* bad weights paths */
    tiny *bad = tiny_create(argv[i], 1, error, sizeof error);
    printf("bad %s: %s\\n", bad ? "opened" : "NULL", error);
  }
  tiny *model = tiny_create(argv[argc - 1], 2, error, sizeof error);
  if (!model) return printf("error: %s\\n", error), 1;
  printf("second: %s\\n", tiny_create(argv[argc - 1], 1, error, sizeof error) ? "opened" : error);
  printf("run %d\\n", tiny_run(model, in, out));
  printf("null run %d: %s\\n", tiny_run(model, NULL, out), tiny_error(model));
  printf("run again %d [%s]\\n", tiny_run(model, in, out), tiny_error(model));
  tiny_destroy(model);
  model = tiny_create(argv[argc - 1], 1, error, sizeof error);
  printf("reopened %s\\n", model ? "yes" : error);
  tiny_destroy(model);
  return 0;
}
"""


def test_an_app_links_it_and_the_api_reports_shapes_and_errors(package, host_build, tmp_path):
    """The README's way in: add_subdirectory + target_link_libraries, only the header."""
    pkg = package[0]
    app = tmp_path / "app"
    app.mkdir()
    (app / "app.c").write_text(APP)
    (app / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(app C)\n"
        f'add_subdirectory("{pkg}" tiny)\nadd_executable(app app.c)\ntarget_link_libraries(app PRIVATE tiny)\n'
    )
    build = _cmake(app, tmp_path / "build")
    assert not (build / "tiny" / "model_run").exists()  # the package's programs are off inside an app
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    data = bytearray((pkg / "model.weights").read_bytes())
    data[0] ^= 1
    (corrupt / "model.weights").write_bytes(bytes(data))
    proc = run_executable(build / "app", [tmp_path / "nowhere", corrupt, pkg])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:4] == ["counts 1 1 sizes 192 10", "input 1 3 8 8", "output 1 10", "out of range -1 1 -1"]
    assert lines[4].startswith("bad NULL: weights blob") and "nowhere/model.weights" in lines[4]
    assert "cannot open" in lines[4]
    assert lines[5].startswith("bad NULL: ") and "sha256" in lines[5]
    assert "already open" in lines[6]
    assert lines[7:] == ["run 0", "null run -1: run: a NULL input or output pointer", "run again 0 []", "reopened yes"]


@pytest.mark.qemu
def test_aarch64_build_under_qemu_is_bit_identical_to_simde(package, host_build, tmp_path):
    need_toolchain("aarch64", "neon")
    pkg, _, x, expected = package
    toolchain = pkg / "cmake" / "aarch64-linux-gnu.cmake"
    build = _cmake(pkg, tmp_path / "build-arm", f"-DCMAKE_TOOLCHAIN_FILE={toolchain}")
    arm = _outputs(build / "model_run", ["--weights-dir", pkg, x], tmp_path, "arm.bin", target="aarch64")
    host = _outputs(host_build / "model_run", ["--weights-dir", pkg, x], tmp_path, "host.bin")
    assert np.array_equal(arm, host)  # NEON through SIMDe with FMA on == real aarch64
    _assert_close(arm, expected)
    example = _outputs(build / "example", [pkg, 1, x], tmp_path, "example.bin", target="aarch64")
    assert np.array_equal(example, arm)


def test_the_descriptor_carries_shapes(tmp_path):
    """patdnn.compile's ctypes view (runners/host.py's _ModelDesc) reads the same shapes."""
    import patdnn

    need_toolchain("host", "scalar")
    torch.manual_seed(1)
    compiled = patdnn.compile(Tiny().eval(), torch.randn(*IN_SHAPE), outdir=tmp_path, target="scalar")
    assert compiled.shapes() == ([IN_SHAPE], [OUT_SHAPE])


def test_package_names_avoid_the_runtimes():
    from patdnn.package import package_name

    assert package_name("resnet-18") == "resnet_18"
    assert package_name("model") == "model_net" and package_name("pdnn_x") == "pdnn_x_net"
