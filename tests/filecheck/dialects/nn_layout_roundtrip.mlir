// RUN: patdnn-opt %s | patdnn-opt | filecheck %s
// RUN: patdnn-opt %s --print-op-generic | patdnn-opt | filecheck %s

// The nn layout and normalisation ops round-trip through the custom and the generic form:
// permute, channel_shuffle, slice, layer_norm with and without weights, scale_shift with a fused
// activation and no bias, mean, softmax along an axis and log-softmax, concat along axis 0.

// CHECK-LABEL: func.func @layout
// CHECK-NEXT:    nn.permute ins(%x : memref<2x6x5x7xf32>) outs(%p : memref<2x5x7x6xf32>) perm [0, 2, 3, 1]{{$}}
// CHECK-NEXT:    nn.channel_shuffle ins(%x : memref<2x6x5x7xf32>) outs(%y : memref<2x6x5x7xf32>) groups 3 {layer = "shuffle"}
// CHECK-NEXT:    nn.slice ins(%x : memref<2x6x5x7xf32>) outs(%s : memref<2x2x5x7xf32>) axis 1 start 1 step 2{{$}}
// CHECK-NEXT:    nn.concat ins(%x, %x : memref<2x6x5x7xf32>, memref<2x6x5x7xf32>) outs(%c : memref<4x6x5x7xf32>) axis 0{{$}}
// CHECK-NEXT:    func.return
func.func @layout(%x: memref<2x6x5x7xf32>, %p: memref<2x5x7x6xf32>, %y: memref<2x6x5x7xf32>, %s: memref<2x2x5x7xf32>, %c: memref<4x6x5x7xf32>) {
  nn.permute ins(%x : memref<2x6x5x7xf32>) outs(%p : memref<2x5x7x6xf32>) perm [0, 2, 3, 1]
  nn.channel_shuffle ins(%x : memref<2x6x5x7xf32>) outs(%y : memref<2x6x5x7xf32>) groups 3 {layer = "shuffle"}
  nn.slice ins(%x : memref<2x6x5x7xf32>) outs(%s : memref<2x2x5x7xf32>) axis 1 start 1 step 2
  nn.concat ins(%x, %x : memref<2x6x5x7xf32>, memref<2x6x5x7xf32>) outs(%c : memref<4x6x5x7xf32>) axis 0
  func.return
}

// CHECK-LABEL: func.func @norms
// CHECK-NEXT:    nn.layer_norm ins(%x : memref<2x6x5x7xf32>) outs(%y : memref<2x6x5x7xf32>) axes [1] eps 1.0e-06 weights dense<1.000000e+00> : tensor<6xf32> bias dense<0.000000e+00> : tensor<6xf32>{{$}}
// CHECK-NEXT:    nn.layer_norm ins(%x : memref<2x6x5x7xf32>) outs(%y : memref<2x6x5x7xf32>) axes [2, 3] eps 0.001{{$}}
// CHECK-NEXT:    nn.scale_shift ins(%x : memref<2x6x5x7xf32>) outs(%y : memref<2x6x5x7xf32>) activation relu weights dense<2.000000e+00> : tensor<6xf32>{{$}}
// CHECK-NEXT:    nn.mean ins(%x : memref<2x6x5x7xf32>) outs(%m : memref<2x5x7xf32>) axes [1]{{$}}
// CHECK-NEXT:    nn.softmax ins(%x : memref<2x6x5x7xf32>) outs(%y : memref<2x6x5x7xf32>) axis 1 log{{$}}
// CHECK-NEXT:    nn.softmax ins(%x : memref<2x6x5x7xf32>) outs(%y : memref<2x6x5x7xf32>) axis 2{{$}}
// CHECK-NEXT:    func.return
func.func @norms(%x: memref<2x6x5x7xf32>, %y: memref<2x6x5x7xf32>, %m: memref<2x5x7xf32>) {
  nn.layer_norm ins(%x : memref<2x6x5x7xf32>) outs(%y : memref<2x6x5x7xf32>) axes [1] eps 1.0e-06 weights dense<1.0> : tensor<6xf32> bias dense<0.0> : tensor<6xf32>
  nn.layer_norm ins(%x : memref<2x6x5x7xf32>) outs(%y : memref<2x6x5x7xf32>) axes [2, 3] eps 0.001
  nn.scale_shift ins(%x : memref<2x6x5x7xf32>) outs(%y : memref<2x6x5x7xf32>) activation relu weights dense<2.0> : tensor<6xf32>
  nn.mean ins(%x : memref<2x6x5x7xf32>) outs(%m : memref<2x5x7xf32>) axes [1]
  nn.softmax ins(%x : memref<2x6x5x7xf32>) outs(%y : memref<2x6x5x7xf32>) axis 1 log
  nn.softmax ins(%x : memref<2x6x5x7xf32>) outs(%y : memref<2x6x5x7xf32>) axis 2
  func.return
}
