// RUN: patdnn-opt %s --split-input-file --verify-diagnostics | filecheck %s

// One chunk per verifier error of nn.conv_chain: the message, then "Operation does not verify"
// under the op; the last chunk is valid and printed as IR. The chains are written in the generic
// form (their convs in the custom one): these chunks test the verifier, nn_chain_roundtrip.mlir
// the custom syntax. Until the scratch chunks, the scratch (%s, large enough) is not the point.

// rows: at least one output row per band
func.func @chain(%x: memref<1x6x9x9xf32>, %y: memref<1x4x9x9xf32>, %s: memref<1x4096xf32>) {
  "nn.conv_chain"(%x, %y, %s) <{rows = 0 : i64}> ({
    %e = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%x : memref<1x6x9x9xf32>) outs(%e : memref<1x12x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<72xf32>
    %d = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%e : memref<1x12x9x9xf32>) outs(%d : memref<1x12x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 12 activation relu6 weights dense<0.5> : tensor<108xf32>
    nn.conv2d ins(%d : memref<1x12x9x9xf32>) outs(%y : memref<1x4x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<48xf32>
  }) : (memref<1x6x9x9xf32>, memref<1x4x9x9xf32>, memref<1x4096xf32>) -> ()
  func.return
}

// CHECK: {{^}}nn.conv_chain: rows must be in [1, 9] (the output's height), got 0{{$}}
// CHECK: Operation does not verify: nn.conv_chain: rows must be in [1, 9] (the output's height), got 0

// -----

// rows: at most the output's height (a stride-2 depthwise: 5 rows of 9)
func.func @chain(%x: memref<1x6x9x9xf32>, %y: memref<1x4x5x5xf32>, %s: memref<1x4096xf32>) {
  "nn.conv_chain"(%x, %y, %s) <{rows = 6 : i64}> ({
    %e = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%x : memref<1x6x9x9xf32>) outs(%e : memref<1x12x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<72xf32>
    %d = memref.alloc() : memref<1x12x5x5xf32>
    nn.conv2d ins(%e : memref<1x12x9x9xf32>) outs(%d : memref<1x12x5x5xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups 12 activation relu6 weights dense<0.5> : tensor<108xf32>
    nn.conv2d ins(%d : memref<1x12x5x5xf32>) outs(%y : memref<1x4x5x5xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<48xf32>
  }) : (memref<1x6x9x9xf32>, memref<1x4x5x5xf32>, memref<1x4096xf32>) -> ()
  func.return
}

// CHECK: {{^}}nn.conv_chain: rows must be in [1, 5] (the output's height), got 6{{$}}
// CHECK: Operation does not verify: nn.conv_chain: rows must be in [1, 5] (the output's height), got 6

// -----

// the body: allocs and convs only
func.func @chain(%x: memref<1x6x9x9xf32>, %y: memref<1x4x9x9xf32>, %s: memref<1x4096xf32>) {
  "nn.conv_chain"(%x, %y, %s) <{rows = 9 : i64}> ({
    %e = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%x : memref<1x6x9x9xf32>) outs(%e : memref<1x12x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<72xf32>
    %a = memref.alloc() : memref<1x12x9x9xf32>
    nn.activation ins(%e : memref<1x12x9x9xf32>) outs(%a : memref<1x12x9x9xf32>) activation relu
    %d = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%a : memref<1x12x9x9xf32>) outs(%d : memref<1x12x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 12 activation relu6 weights dense<0.5> : tensor<108xf32>
    nn.conv2d ins(%d : memref<1x12x9x9xf32>) outs(%y : memref<1x4x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<48xf32>
  }) : (memref<1x6x9x9xf32>, memref<1x4x9x9xf32>, memref<1x4096xf32>) -> ()
  func.return
}

// CHECK: {{^}}nn.conv_chain: the body holds memref.alloc and nn.conv2d only, got nn.activation{{$}}
// CHECK: Operation does not verify: nn.conv_chain: the body holds memref.alloc and nn.conv2d only, got nn.activation

// -----

// one depthwise: not two
func.func @chain(%x: memref<1x6x9x9xf32>, %y: memref<1x12x9x9xf32>, %s: memref<1x4096xf32>) {
  "nn.conv_chain"(%x, %y, %s) <{rows = 9 : i64}> ({
    %e = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%x : memref<1x6x9x9xf32>) outs(%e : memref<1x12x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<72xf32>
    %d = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%e : memref<1x12x9x9xf32>) outs(%d : memref<1x12x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 12 activation relu6 weights dense<0.5> : tensor<108xf32>
    nn.conv2d ins(%d : memref<1x12x9x9xf32>) outs(%y : memref<1x12x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 12 activation relu6 weights dense<0.5> : tensor<108xf32>
  }) : (memref<1x6x9x9xf32>, memref<1x12x9x9xf32>, memref<1x4096xf32>) -> ()
  func.return
}

// CHECK: {{^}}nn.conv_chain: the body must be [1x1] -> depthwise -> [1x1] (two or three nn.conv2d){{$}}
// CHECK: Operation does not verify: nn.conv_chain: the body must be [1x1] -> depthwise -> [1x1] (two or three nn.conv2d)

// -----

// a depthwise alone is no chain
func.func @chain(%x: memref<1x6x9x9xf32>, %y: memref<1x6x9x9xf32>, %s: memref<1x4096xf32>) {
  "nn.conv_chain"(%x, %y, %s) <{rows = 9 : i64}> ({
    nn.conv2d ins(%x : memref<1x6x9x9xf32>) outs(%y : memref<1x6x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 6 activation relu6 weights dense<0.5> : tensor<54xf32>
  }) : (memref<1x6x9x9xf32>, memref<1x6x9x9xf32>, memref<1x4096xf32>) -> ()
  func.return
}

// CHECK: {{^}}nn.conv_chain: the body must be [1x1] -> depthwise -> [1x1] (two or three nn.conv2d){{$}}
// CHECK: Operation does not verify: nn.conv_chain: the body must be [1x1] -> depthwise -> [1x1] (two or three nn.conv2d)

// -----

// the conv after the depthwise: a 1x1, not a dense 3x3
func.func @chain(%x: memref<1x6x9x9xf32>, %y: memref<1x4x9x9xf32>, %s: memref<1x4096xf32>) {
  "nn.conv_chain"(%x, %y, %s) <{rows = 9 : i64}> ({
    %e = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%x : memref<1x6x9x9xf32>) outs(%e : memref<1x12x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<72xf32>
    %d = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%e : memref<1x12x9x9xf32>) outs(%d : memref<1x12x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 12 activation relu6 weights dense<0.5> : tensor<108xf32>
    nn.conv2d ins(%d : memref<1x12x9x9xf32>) outs(%y : memref<1x4x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 1 activation none weights dense<0.5> : tensor<432xf32>
  }) : (memref<1x6x9x9xf32>, memref<1x4x9x9xf32>, memref<1x4096xf32>) -> ()
  func.return
}

// CHECK: {{^}}nn.conv_chain: the conv{{.*}} must be 1x1, stride 1, unpadded, groups 1{{$}}
// CHECK: Operation does not verify: nn.conv_chain: the conv{{.*}} must be 1x1, stride 1, unpadded, groups 1

// -----

// the conv before the depthwise: ungrouped (here 2 groups)
func.func @chain(%x: memref<1x6x9x9xf32>, %y: memref<1x4x9x9xf32>, %s: memref<1x4096xf32>) {
  "nn.conv_chain"(%x, %y, %s) <{rows = 9 : i64}> ({
    %e = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%x : memref<1x6x9x9xf32>) outs(%e : memref<1x12x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 2 activation relu6 weights dense<0.5> : tensor<36xf32>
    %d = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%e : memref<1x12x9x9xf32>) outs(%d : memref<1x12x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 12 activation relu6 weights dense<0.5> : tensor<108xf32>
    nn.conv2d ins(%d : memref<1x12x9x9xf32>) outs(%y : memref<1x4x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<48xf32>
  }) : (memref<1x6x9x9xf32>, memref<1x4x9x9xf32>, memref<1x4096xf32>) -> ()
  func.return
}

// CHECK: {{^}}nn.conv_chain: the conv{{.*}} must be 1x1, stride 1, unpadded, groups 1{{$}}
// CHECK: Operation does not verify: nn.conv_chain: the conv{{.*}} must be 1x1, stride 1, unpadded, groups 1

// -----

// the first conv reads the chain's input (here another argument)
func.func @chain(%x: memref<1x6x9x9xf32>, %w: memref<1x6x9x9xf32>, %y: memref<1x4x9x9xf32>, %s: memref<1x4096xf32>) {
  "nn.conv_chain"(%x, %y, %s) <{rows = 9 : i64}> ({
    %e = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%w : memref<1x6x9x9xf32>) outs(%e : memref<1x12x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<72xf32>
    %d = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%e : memref<1x12x9x9xf32>) outs(%d : memref<1x12x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 12 activation relu6 weights dense<0.5> : tensor<108xf32>
    nn.conv2d ins(%d : memref<1x12x9x9xf32>) outs(%y : memref<1x4x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<48xf32>
  }) : (memref<1x6x9x9xf32>, memref<1x4x9x9xf32>, memref<1x4096xf32>) -> ()
  func.return
}

// CHECK: {{^}}nn.conv_chain: the first conv must read the chain's input, the last write its output{{$}}
// CHECK: Operation does not verify: nn.conv_chain: the first conv must read the chain's input, the last write its output

// -----

// an intermediate tensor is an alloc of the body (not one outside it)
func.func @chain(%x: memref<1x6x9x9xf32>, %y: memref<1x4x9x9xf32>, %s: memref<1x4096xf32>) {
  %e = memref.alloc() : memref<1x12x9x9xf32>
  "nn.conv_chain"(%x, %y, %s) <{rows = 9 : i64}> ({
    nn.conv2d ins(%x : memref<1x6x9x9xf32>) outs(%e : memref<1x12x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<72xf32>
    %d = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%e : memref<1x12x9x9xf32>) outs(%d : memref<1x12x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 12 activation relu6 weights dense<0.5> : tensor<108xf32>
    nn.conv2d ins(%d : memref<1x12x9x9xf32>) outs(%y : memref<1x4x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<48xf32>
  }) : (memref<1x6x9x9xf32>, memref<1x4x9x9xf32>, memref<1x4096xf32>) -> ()
  func.return
}

// CHECK: {{^}}nn.conv_chain: an intermediate tensor must be a memref.alloc of the body{{$}}
// CHECK: Operation does not verify: nn.conv_chain: an intermediate tensor must be a memref.alloc of the body

// -----

// each intermediate tensor: written by one conv, read by the next only (here the project reads
// the expanded tensor, not the depthwise's output)
func.func @chain(%x: memref<1x6x9x9xf32>, %y: memref<1x4x9x9xf32>, %s: memref<1x4096xf32>) {
  "nn.conv_chain"(%x, %y, %s) <{rows = 9 : i64}> ({
    %e = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%x : memref<1x6x9x9xf32>) outs(%e : memref<1x12x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<72xf32>
    %d = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%e : memref<1x12x9x9xf32>) outs(%d : memref<1x12x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 12 activation relu6 weights dense<0.5> : tensor<108xf32>
    nn.conv2d ins(%e : memref<1x12x9x9xf32>) outs(%y : memref<1x4x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<48xf32>
  }) : (memref<1x6x9x9xf32>, memref<1x4x9x9xf32>, memref<1x4096xf32>) -> ()
  func.return
}

// CHECK: {{^}}nn.conv_chain: each intermediate tensor is written by one conv and read by the next{{$}}
// CHECK: Operation does not verify: nn.conv_chain: each intermediate tensor is written by one conv and read by the next

// -----

// only the last conv adds a residual (here the expand)
func.func @chain(%x: memref<1x6x9x9xf32>, %r: memref<1x12x9x9xf32>, %y: memref<1x4x9x9xf32>, %s: memref<1x4096xf32>) {
  "nn.conv_chain"(%x, %y, %s) <{rows = 9 : i64}> ({
    %e = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%x, %r : memref<1x6x9x9xf32>, memref<1x12x9x9xf32>) outs(%e : memref<1x12x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<72xf32>
    %d = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%e : memref<1x12x9x9xf32>) outs(%d : memref<1x12x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 12 activation relu6 weights dense<0.5> : tensor<108xf32>
    nn.conv2d ins(%d : memref<1x12x9x9xf32>) outs(%y : memref<1x4x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<48xf32>
  }) : (memref<1x6x9x9xf32>, memref<1x4x9x9xf32>, memref<1x4096xf32>) -> ()
  func.return
}

// CHECK: {{^}}nn.conv_chain: only the last conv may add a residual{{$}}
// CHECK: Operation does not verify: nn.conv_chain: only the last conv may add a residual

// -----

// depthwise -> 1x1 -> 1x1: three convs, but a second 1x1 after the project is no chain (the
// backend runs the first two only: the third conv would never run)
func.func @chain(%x: memref<1x6x9x9xf32>, %z: memref<1x4x9x9xf32>, %s: memref<1x4096xf32>) {
  "nn.conv_chain"(%x, %z, %s) <{rows = 9 : i64}> ({
    %d = memref.alloc() : memref<1x6x9x9xf32>
    nn.conv2d ins(%x : memref<1x6x9x9xf32>) outs(%d : memref<1x6x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 6 activation relu6 weights dense<0.5> : tensor<54xf32>
    %p = memref.alloc() : memref<1x4x9x9xf32>
    nn.conv2d ins(%d : memref<1x6x9x9xf32>) outs(%p : memref<1x4x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<24xf32>
    nn.conv2d ins(%p : memref<1x4x9x9xf32>) outs(%z : memref<1x4x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<16xf32>
  }) : (memref<1x6x9x9xf32>, memref<1x4x9x9xf32>, memref<1x4096xf32>) -> ()
  func.return
}

// CHECK: {{^}}nn.conv_chain: the body must be [1x1] -> depthwise -> [1x1]: one conv on each side at most{{$}}
// CHECK: Operation does not verify: nn.conv_chain: the body must be [1x1] -> depthwise -> [1x1]: one conv on each side at most

// -----

// the scratch: threads x slot floats, a 2-d memref (not the slots flattened)
func.func @chain(%x: memref<1x6x9x9xf32>, %y: memref<1x4x9x9xf32>, %s: memref<8192xf32>) {
  "nn.conv_chain"(%x, %y, %s) <{rows = 3 : i64}> ({
    %e = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%x : memref<1x6x9x9xf32>) outs(%e : memref<1x12x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<72xf32>
    %d = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%e : memref<1x12x9x9xf32>) outs(%d : memref<1x12x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 12 activation relu6 weights dense<0.5> : tensor<108xf32>
    nn.conv2d ins(%d : memref<1x12x9x9xf32>) outs(%y : memref<1x4x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<48xf32>
  }) : (memref<1x6x9x9xf32>, memref<1x4x9x9xf32>, memref<8192xf32>) -> ()
  func.return
}

// CHECK: {{^}}nn.conv_chain: scratch must be a 2-d (threads x floats) memref, got memref<8192xf32>{{$}}
// CHECK: Operation does not verify: nn.conv_chain: scratch must be a 2-d (threads x floats) memref

// -----

// the scratch's slots hold what a band of `rows` rows needs: for 3 rows, 5 padded input rows
// (5 x 11 x 16 floats) and 3 output rows (3 x 9 x 16), 1312 floats; 992 are enough for 2 rows only
func.func @chain(%x: memref<1x6x9x9xf32>, %y: memref<1x4x9x9xf32>, %s: memref<2x992xf32>) {
  "nn.conv_chain"(%x, %y, %s) <{rows = 3 : i64}> ({
    %e = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%x : memref<1x6x9x9xf32>) outs(%e : memref<1x12x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<72xf32>
    %d = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%e : memref<1x12x9x9xf32>) outs(%d : memref<1x12x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 12 activation relu6 weights dense<0.5> : tensor<108xf32>
    nn.conv2d ins(%d : memref<1x12x9x9xf32>) outs(%y : memref<1x4x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<48xf32>
  }) : (memref<1x6x9x9xf32>, memref<1x4x9x9xf32>, memref<2x992xf32>) -> ()
  func.return
}

// CHECK: {{^}}nn.conv_chain: scratch must be (threads x >= 1312) floats for rows 3, got [2, 992]{{$}}
// CHECK: Operation does not verify: nn.conv_chain: scratch must be (threads x >= 1312) floats for rows 3, got [2, 992]

// -----

// the scratch has a slot for at least one thread
func.func @chain(%x: memref<1x6x9x9xf32>, %y: memref<1x4x9x9xf32>, %s: memref<0x1312xf32>) {
  "nn.conv_chain"(%x, %y, %s) <{rows = 3 : i64}> ({
    %e = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%x : memref<1x6x9x9xf32>) outs(%e : memref<1x12x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<72xf32>
    %d = memref.alloc() : memref<1x12x9x9xf32>
    nn.conv2d ins(%e : memref<1x12x9x9xf32>) outs(%d : memref<1x12x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 12 activation relu6 weights dense<0.5> : tensor<108xf32>
    nn.conv2d ins(%d : memref<1x12x9x9xf32>) outs(%y : memref<1x4x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<48xf32>
  }) : (memref<1x6x9x9xf32>, memref<1x4x9x9xf32>, memref<0x1312xf32>) -> ()
  func.return
}

// CHECK: {{^}}nn.conv_chain: scratch must be (threads x >= 1312) floats for rows 3, got [0, 1312]{{$}}
// CHECK: Operation does not verify: nn.conv_chain: scratch must be (threads x >= 1312) floats for rows 3, got [0, 1312]

// -----

// valid: no expand, a dilated 5x5 stride-2 depthwise and the project + residual, 2 rows a band,
// in two slots of exactly what they need (11 padded input rows of 17 x 16 floats, 2 output rows
// of 5 x 16: 3152 floats)
func.func @chain(%x: memref<2x6x9x9xf32>, %r: memref<2x4x5x5xf32>, %y: memref<2x4x5x5xf32>) {
  %s = memref.alloc() : memref<2x3152xf32>
  "nn.conv_chain"(%x, %y, %s) <{rows = 2 : i64}> ({
    %d = memref.alloc() : memref<2x6x5x5xf32>
    nn.conv2d ins(%x : memref<2x6x9x9xf32>) outs(%d : memref<2x6x5x5xf32>) kernel [5, 5] stride [2, 2] padding [4, 4] dilation [2, 2] groups 6 activation relu6 weights dense<0.5> : tensor<150xf32>
    nn.conv2d ins(%d, %r : memref<2x6x5x5xf32>, memref<2x4x5x5xf32>) outs(%y : memref<2x4x5x5xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<24xf32>
  }) : (memref<2x6x9x9xf32>, memref<2x4x5x5xf32>, memref<2x3152xf32>) -> ()
  func.return
}

// CHECK:      func.func @chain(%x: memref<2x6x9x9xf32>, %r: memref<2x4x5x5xf32>, %y: memref<2x4x5x5xf32>) {
// CHECK-NEXT:   %s = memref.alloc() : memref<2x3152xf32>
// CHECK-NEXT:   nn.conv_chain ins(%x : memref<2x6x9x9xf32>) outs(%y : memref<2x4x5x5xf32>) scratch(%s : memref<2x3152xf32>) rows 2 {
// CHECK-NEXT:     %d = memref.alloc() : memref<2x6x5x5xf32>
// CHECK-NEXT:     nn.conv2d ins(%x : memref<2x6x9x9xf32>) outs(%d : memref<2x6x5x5xf32>) kernel [5, 5] stride [2, 2] padding [4, 4] dilation [2, 2] groups 6
// CHECK-NEXT:     nn.conv2d ins(%d, %r : memref<2x6x5x5xf32>, memref<2x4x5x5xf32>) outs(%y : memref<2x4x5x5xf32>) kernel [1, 1]
// CHECK-NEXT:   }
