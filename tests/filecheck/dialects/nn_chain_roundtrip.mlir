// RUN: patdnn-opt %s | patdnn-opt | filecheck %s
// RUN: patdnn-opt %s --print-op-generic | patdnn-opt | filecheck %s

// nn.conv_chain's custom syntax round-trips through the custom and the generic form: the body
// with its allocs and convs (bias, residual, blob weights, activations, dilation), the scratch
// operand, the rows and an optional attribute dictionary (after the `attributes` keyword, so
// that it is never read as the body's brace).

// An inverted residual: expand, depthwise 3x3 stride 2, project + a residual of the output's
// shape; its scratch a local alloc of two slots of exactly chain_slot_floats (2 rows: 1232).
// CHECK-LABEL: func.func @inverted_residual
// CHECK-NEXT:    %s = memref.alloc() : memref<2x1232xf32>
// CHECK-NEXT:    nn.conv_chain ins(%x : memref<2x5x9x11xf32>) outs(%y : memref<2x7x5x6xf32>) scratch(%s : memref<2x1232xf32>) rows 2
// CHECK-SAME:      attributes {layer = "block2", patdnn.note = "fused"} {{[{]$}}
// CHECK-NEXT:      %e = memref.alloc() : memref<2x13x9x11xf32>
// CHECK-NEXT:      nn.conv2d ins(%x : memref<2x5x9x11xf32>) outs(%e : memref<2x13x9x11xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6
// CHECK-SAME:        weights dense<5.000000e-01> : tensor<65xf32> bias dense<2.500000e-01> : tensor<13xf32> {layer = "expand"}{{$}}
// CHECK-NEXT:      %d = memref.alloc() : memref<2x13x5x6xf32>
// CHECK-NEXT:      nn.conv2d ins(%e : memref<2x13x9x11xf32>) outs(%d : memref<2x13x5x6xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups 13 activation hardswish
// CHECK-SAME:        weights #pattern.blob<"model.weights", offset = 64, size = 468, sha256 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff">{{$}}
// CHECK-NEXT:      nn.conv2d ins(%d, %r : memref<2x13x5x6xf32>, memref<2x7x5x6xf32>) outs(%y : memref<2x7x5x6xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none
// CHECK-SAME:        weights dense<1.000000e+00> : tensor<91xf32>{{$}}
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return
func.func @inverted_residual(%x : memref<2x5x9x11xf32>, %r : memref<2x7x5x6xf32>, %y : memref<2x7x5x6xf32>) {
  %s = memref.alloc() : memref<2x1232xf32>
  nn.conv_chain ins(%x : memref<2x5x9x11xf32>) outs(%y : memref<2x7x5x6xf32>) scratch(%s : memref<2x1232xf32>) rows 2 attributes {layer = "block2", patdnn.note = "fused"} {
    %e = memref.alloc() : memref<2x13x9x11xf32>
    nn.conv2d ins(%x : memref<2x5x9x11xf32>) outs(%e : memref<2x13x9x11xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<65xf32> bias dense<0.25> : tensor<13xf32> {layer = "expand"}
    %d = memref.alloc() : memref<2x13x5x6xf32>
    nn.conv2d ins(%e : memref<2x13x9x11xf32>) outs(%d : memref<2x13x5x6xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups 13 activation hardswish weights #pattern.blob<"model.weights", offset = 64, size = 468, sha256 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff">
    nn.conv2d ins(%d, %r : memref<2x13x5x6xf32>, memref<2x7x5x6xf32>) outs(%y : memref<2x7x5x6xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<1.0> : tensor<91xf32>
  }
  func.return
}

// No expand (a dilated 5x5 depthwise on the input, then the project); no project (the chain
// ends at the depthwise, writing the function's argument), one row per band. Both share one
// scratch, a function argument: three slots of the larger need (7 rows: 4384 floats; the
// second needs 544).
// CHECK-LABEL: func.func @partial_chains
// CHECK-NEXT:    nn.conv_chain ins(%x : memref<1x6x7x7xf32>) outs(%y : memref<1x4x7x7xf32>) scratch(%s : memref<3x4384xf32>) rows 7 {{[{]$}}
// CHECK-NEXT:      %d = memref.alloc() : memref<1x6x7x7xf32>
// CHECK-NEXT:      nn.conv2d ins(%x : memref<1x6x7x7xf32>) outs(%d : memref<1x6x7x7xf32>) kernel [5, 5] stride [1, 1] padding [4, 4] dilation [2, 2] groups 6 activation relu
// CHECK-NEXT:      nn.conv2d ins(%d : memref<1x6x7x7xf32>) outs(%y : memref<1x4x7x7xf32>) kernel [1, 1]
// CHECK-NEXT:    }
// CHECK-NEXT:    nn.conv_chain ins(%x : memref<1x6x7x7xf32>) outs(%z : memref<1x12x7x7xf32>) scratch(%s : memref<3x4384xf32>) rows 1 {{[{]$}}
// CHECK-NEXT:      %e = memref.alloc() : memref<1x12x7x7xf32>
// CHECK-NEXT:      nn.conv2d ins(%x : memref<1x6x7x7xf32>) outs(%e : memref<1x12x7x7xf32>) kernel [1, 1]
// CHECK-NEXT:      nn.conv2d ins(%e : memref<1x12x7x7xf32>) outs(%z : memref<1x12x7x7xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 12 activation leaky_relu(0.1) weights
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return
func.func @partial_chains(%x : memref<1x6x7x7xf32>, %y : memref<1x4x7x7xf32>, %z : memref<1x12x7x7xf32>, %s : memref<3x4384xf32>) {
  nn.conv_chain ins(%x : memref<1x6x7x7xf32>) outs(%y : memref<1x4x7x7xf32>) scratch(%s : memref<3x4384xf32>) rows 7 {
    %d = memref.alloc() : memref<1x6x7x7xf32>
    nn.conv2d ins(%x : memref<1x6x7x7xf32>) outs(%d : memref<1x6x7x7xf32>) kernel [5, 5] stride [1, 1] padding [4, 4] dilation [2, 2] groups 6 activation relu weights dense<0.5> : tensor<150xf32>
    nn.conv2d ins(%d : memref<1x6x7x7xf32>) outs(%y : memref<1x4x7x7xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<24xf32>
  }
  nn.conv_chain ins(%x : memref<1x6x7x7xf32>) outs(%z : memref<1x12x7x7xf32>) scratch(%s : memref<3x4384xf32>) rows 1 {
    %e = memref.alloc() : memref<1x12x7x7xf32>
    nn.conv2d ins(%x : memref<1x6x7x7xf32>) outs(%e : memref<1x12x7x7xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<72xf32>
    nn.conv2d ins(%e : memref<1x12x7x7xf32>) outs(%z : memref<1x12x7x7xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 12 activation leaky_relu(0.1) weights dense<0.5> : tensor<108xf32>
  }
  func.return
}
