// RUN: patdnn-opt %s -p fuse-residual-add | filecheck %s
// RUN: patdnn-opt %s -p fuse-residual-add,plan-buffers -t "c{isa=avx512}" | filecheck %s --check-prefix=C

// A bottleneck's last 1x1 and the identity: the add's relu moves into the convolution, which
// writes the add's output; the intermediate buffer and the add are gone.
// CHECK-LABEL: func.func @identity
// CHECK-NEXT:    nn.conv2d ins(%x, %id : memref<1x8x4x4xf32>, memref<1x8x4x4xf32>) outs(%out : memref<1x8x4x4xf32>)
// CHECK-SAME:      activation relu {{.*}} {layer = "conv3"}
// CHECK-NEXT:    func.return
// C-LABEL: void identity(
// C:         pdnn_conv1x1_cm(ctx, arg_x, arg_out, {{.*}}_conv3_w, {{.*}}_conv3_w_cm, NULL, arg_id, 1, 8, 4, 4, 8, 4, 4, 1, 1, PDNN_ACT_RELU);
// C-NOT:     pdnn_add
// C:       }
func.func @identity(%x : memref<1x8x4x4xf32>, %id : memref<1x8x4x4xf32>, %out : memref<1x8x4x4xf32>) {
  %t = memref.alloc() : memref<1x8x4x4xf32>
  nn.conv2d ins(%x : memref<1x8x4x4xf32>) outs(%t : memref<1x8x4x4xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<64xf32> {layer = "conv3"}
  nn.add ins(%t, %id : memref<1x8x4x4xf32>, memref<1x8x4x4xf32>) outs(%out : memref<1x8x4x4xf32>) activation relu
  func.return
}

// A downsample block: the shortcut conv runs between the two and writes the residual; the fused
// convolution takes the add's place, where the residual is ready. (Either input of the add may
// come from a convolution; the lhs is tried first, as torch writes `out += identity`.)
// CHECK-LABEL: func.func @downsample
// CHECK-NEXT:    %r = memref.alloc()
// CHECK-NEXT:    nn.conv2d ins(%x : memref<1x4x4x4xf32>) outs(%r : memref<1x8x4x4xf32>) {{.*}} {layer = "shortcut"}
// CHECK-NEXT:    nn.conv2d ins(%y, %r : memref<1x8x4x4xf32>, memref<1x8x4x4xf32>) outs(%out : memref<1x8x4x4xf32>) {{.*}} activation relu6 {{.*}} {layer = "conv3"}
// CHECK-NEXT:    func.return
func.func @downsample(%x : memref<1x4x4x4xf32>, %y : memref<1x8x4x4xf32>, %out : memref<1x8x4x4xf32>) {
  %t = memref.alloc() : memref<1x8x4x4xf32>
  %r = memref.alloc() : memref<1x8x4x4xf32>
  nn.conv2d ins(%y : memref<1x8x4x4xf32>) outs(%t : memref<1x8x4x4xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<64xf32> {layer = "conv3"}
  nn.conv2d ins(%x : memref<1x4x4x4xf32>) outs(%r : memref<1x8x4x4xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<32xf32> {layer = "shortcut"}
  nn.add ins(%t, %r : memref<1x8x4x4xf32>, memref<1x8x4x4xf32>) outs(%out : memref<1x8x4x4xf32>) activation relu6
  func.return
}

// A dilated convolution keeps its dilation when it takes the residual (ASPP-style blocks).
// CHECK-LABEL: func.func @dilated
// CHECK-NEXT:    nn.conv2d ins(%x, %id : memref<1x4x7x9xf32>, memref<1x4x7x9xf32>) outs(%out : memref<1x4x7x9xf32>)
// CHECK-SAME:      padding [2, 2] dilation [2, 2] groups 1 activation relu
// CHECK-NEXT:    func.return
func.func @dilated(%x : memref<1x4x7x9xf32>, %id : memref<1x4x7x9xf32>, %out : memref<1x4x7x9xf32>) {
  %t = memref.alloc() : memref<1x4x7x9xf32>
  nn.conv2d ins(%x : memref<1x4x7x9xf32>) outs(%t : memref<1x4x7x9xf32>) kernel [3, 3] stride [1, 1] padding [2, 2] dilation [2, 2] groups 1 activation none weights dense<0.5> : tensor<144xf32>
  nn.add ins(%t, %id : memref<1x4x7x9xf32>, memref<1x4x7x9xf32>) outs(%out : memref<1x4x7x9xf32>) activation relu
  func.return
}

// Left alone: a convolution with its own activation (relu(conv) + r is not relu(conv + r)), a
// result something else reads too, a result in a function argument (the caller sees it), and an
// input overwritten before the add.
// CHECK-LABEL: func.func @not_fused
// CHECK-COUNT-4: nn.add
// CHECK:         func.return
func.func @not_fused(%x : memref<1x8x4x4xf32>, %id : memref<1x8x4x4xf32>, %arg : memref<1x8x4x4xf32>, %out : memref<1x8x4x4xf32>, %p : memref<1x8x2x2xf32>) {
  %a = memref.alloc() : memref<1x8x4x4xf32>
  nn.conv2d ins(%x : memref<1x8x4x4xf32>) outs(%a : memref<1x8x4x4xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu weights dense<0.5> : tensor<64xf32>
  nn.add ins(%a, %id : memref<1x8x4x4xf32>, memref<1x8x4x4xf32>) outs(%out : memref<1x8x4x4xf32>) activation none
  %b = memref.alloc() : memref<1x8x4x4xf32>
  nn.conv2d ins(%x : memref<1x8x4x4xf32>) outs(%b : memref<1x8x4x4xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<64xf32>
  nn.pool2d ins(%b : memref<1x8x4x4xf32>) outs(%p : memref<1x8x2x2xf32>) kind max kernel [2, 2] stride [2, 2] padding [0, 0]
  nn.add ins(%b, %id : memref<1x8x4x4xf32>, memref<1x8x4x4xf32>) outs(%out : memref<1x8x4x4xf32>) activation none
  nn.conv2d ins(%x : memref<1x8x4x4xf32>) outs(%arg : memref<1x8x4x4xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<64xf32>
  nn.add ins(%arg, %id : memref<1x8x4x4xf32>, memref<1x8x4x4xf32>) outs(%out : memref<1x8x4x4xf32>) activation none
  %c = memref.alloc() : memref<1x8x4x4xf32>
  nn.conv2d ins(%x : memref<1x8x4x4xf32>) outs(%c : memref<1x8x4x4xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<64xf32>
  nn.activation ins(%id : memref<1x8x4x4xf32>) outs(%x : memref<1x8x4x4xf32>) activation relu
  nn.add ins(%c, %id : memref<1x8x4x4xf32>, memref<1x8x4x4xf32>) outs(%out : memref<1x8x4x4xf32>) activation none
  func.return
}
