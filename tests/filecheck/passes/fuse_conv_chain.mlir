// RUN: patdnn-opt %s -p fuse-conv-chain | filecheck %s
// RUN: patdnn-opt %s -p "fuse-conv-chain{budget_kib=8}" | filecheck %s --check-prefix=BAND
// RUN: patdnn-opt %s -p "fuse-conv-chain{min_kib=8}" | filecheck %s --check-prefix=MIN
// RUN: patdnn-opt %s -p "fuse-conv-chain{min_kib=9}" | filecheck %s --check-prefix=MIN9
// RUN: patdnn-opt %s -p fuse-conv-chain,plan-buffers | filecheck %s --check-prefix=PLAN

// MobileNet-V2's inverted residual: expand 1x1 -> depthwise 3x3 -> project 1x1 + the block's
// input. The three convs move, unchanged and with their allocs, into one nn.conv_chain where the
// project was. Its slot (the band's 3 + rows - 1 padded input rows of 11 x 32 floats, the
// depthwise output rows of 9 x 32) fits the 256 KiB default for all 9 rows; in 8 KiB,
// 2560 * rows + 2816 bytes fit for 2 rows. plan-buffers places nothing: the intermediate tensors
// only exist band by band in the chain's scratch.
// CHECK-LABEL: func.func @inverted_residual
// CHECK-NEXT:    nn.conv_chain ins(%x : memref<1x8x9x9xf32>) outs(%y : memref<1x8x9x9xf32>) rows 9 {
// CHECK-NEXT:      %e = memref.alloc() : memref<1x24x9x9xf32>
// CHECK-NEXT:      nn.conv2d ins(%x : memref<1x8x9x9xf32>) outs(%e : memref<1x24x9x9xf32>) kernel [1, 1] {{.*}} activation relu6 {{.*}} {layer = "expand"}
// CHECK-NEXT:      %d = memref.alloc() : memref<1x24x9x9xf32>
// CHECK-NEXT:      nn.conv2d ins(%e : memref<1x24x9x9xf32>) outs(%d : memref<1x24x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 24 activation relu6 {{.*}} {layer = "dw"}
// CHECK-NEXT:      nn.conv2d ins(%d, %x : memref<1x24x9x9xf32>, memref<1x8x9x9xf32>) outs(%y : memref<1x8x9x9xf32>) kernel [1, 1] {{.*}} {layer = "project"}
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return
// BAND-LABEL: func.func @inverted_residual
// BAND-NEXT:    nn.conv_chain ins(%x : memref<1x8x9x9xf32>) outs(%y : memref<1x8x9x9xf32>) rows 2 {
// MIN-LABEL: func.func @inverted_residual
// MIN-NOT:     nn.conv_chain
// MIN:         func.return
// PLAN-LABEL: func.func @inverted_residual
// PLAN-SAME:    attributes {patdnn.arena_bytes = 0 : i64}
// PLAN-NEXT:    nn.conv_chain
// PLAN-NEXT:      %e = memref.alloc() : memref<1x24x9x9xf32>
func.func @inverted_residual(%x : memref<1x8x9x9xf32>, %y : memref<1x8x9x9xf32>) {
  %e = memref.alloc() : memref<1x24x9x9xf32>
  nn.conv2d ins(%x : memref<1x8x9x9xf32>) outs(%e : memref<1x24x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<192xf32> bias dense<0.25> : tensor<24xf32> {layer = "expand"}
  %d = memref.alloc() : memref<1x24x9x9xf32>
  nn.conv2d ins(%e : memref<1x24x9x9xf32>) outs(%d : memref<1x24x9x9xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 24 activation relu6 weights dense<0.5> : tensor<216xf32> {layer = "dw"}
  nn.conv2d ins(%d, %x : memref<1x24x9x9xf32>, memref<1x8x9x9xf32>) outs(%y : memref<1x8x9x9xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<192xf32> {layer = "project"}
  func.return
}

// MobileNet-V2's first block has no expand: a strided depthwise on the input, then the project.
// CHECK-LABEL: func.func @no_expand
// CHECK-NEXT:    nn.conv_chain ins(%x : memref<2x16x11x11xf32>) outs(%y : memref<2x24x6x6xf32>) rows 6 {
// CHECK-NEXT:      %d = memref.alloc() : memref<2x16x6x6xf32>
// CHECK-NEXT:      nn.conv2d ins(%x : memref<2x16x11x11xf32>) outs(%d : memref<2x16x6x6xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups 16
// CHECK-NEXT:      nn.conv2d ins(%d : memref<2x16x6x6xf32>) outs(%y : memref<2x24x6x6xf32>) kernel [1, 1]
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return
func.func @no_expand(%x : memref<2x16x11x11xf32>, %y : memref<2x24x6x6xf32>) {
  %d = memref.alloc() : memref<2x16x6x6xf32>
  nn.conv2d ins(%x : memref<2x16x11x11xf32>) outs(%d : memref<2x16x6x6xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups 16 activation relu6 weights dense<0.5> : tensor<144xf32>
  nn.conv2d ins(%d : memref<2x16x6x6xf32>) outs(%y : memref<2x24x6x6xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<384xf32>
  func.return
}

// A squeeze-excitation block: the depthwise's output is also pooled, so the chain ends at the
// depthwise (its output stays a whole tensor, allocated outside) and the project runs after the
// pool, unfused.
// CHECK-LABEL: func.func @no_project
// CHECK-NEXT:    %d = memref.alloc() : memref<1x24x7x7xf32>
// CHECK-NEXT:    nn.conv_chain ins(%x : memref<1x8x7x7xf32>) outs(%d : memref<1x24x7x7xf32>) rows 7 {
// CHECK-NEXT:      %e = memref.alloc() : memref<1x24x7x7xf32>
// CHECK-NEXT:      nn.conv2d ins(%x : memref<1x8x7x7xf32>) outs(%e : memref<1x24x7x7xf32>) kernel [1, 1]
// CHECK-NEXT:      nn.conv2d ins(%e : memref<1x24x7x7xf32>) outs(%d : memref<1x24x7x7xf32>) kernel [5, 5] stride [1, 1] padding [2, 2] groups 24
// CHECK-NEXT:    }
// CHECK-NEXT:    nn.adaptive_avg_pool2d ins(%d : memref<1x24x7x7xf32>) outs(%s : memref<1x24x1x1xf32>)
// CHECK-NEXT:    nn.conv2d ins(%d : memref<1x24x7x7xf32>) outs(%y : memref<1x8x7x7xf32>) kernel [1, 1]
// CHECK-NEXT:    func.return
func.func @no_project(%x : memref<1x8x7x7xf32>, %s : memref<1x24x1x1xf32>, %y : memref<1x8x7x7xf32>) {
  %e = memref.alloc() : memref<1x24x7x7xf32>
  nn.conv2d ins(%x : memref<1x8x7x7xf32>) outs(%e : memref<1x24x7x7xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation hardswish weights dense<0.5> : tensor<192xf32>
  %d = memref.alloc() : memref<1x24x7x7xf32>
  nn.conv2d ins(%e : memref<1x24x7x7xf32>) outs(%d : memref<1x24x7x7xf32>) kernel [5, 5] stride [1, 1] padding [2, 2] groups 24 activation hardswish weights dense<0.5> : tensor<600xf32>
  nn.adaptive_avg_pool2d ins(%d : memref<1x24x7x7xf32>) outs(%s : memref<1x24x1x1xf32>)
  nn.conv2d ins(%d : memref<1x24x7x7xf32>) outs(%y : memref<1x8x7x7xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<192xf32>
  func.return
}

// Left alone: an expanded tensor another op reads too (it must exist whole) with no project after
// the depthwise; an op between the expand and the depthwise (the convs must be consecutive); a
// depthwise whose only neighbour is the 1x1 that adds a residual to its *input* (the expand may
// not take one); a "depthwise" with a channel multiplier (groups 8, 16 outputs).
// CHECK-LABEL: func.func @not_fused
// CHECK-NOT:     nn.conv_chain
// CHECK:         func.return
func.func @not_fused(%x : memref<1x8x7x7xf32>, %p : memref<1x24x1x1xf32>, %z : memref<1x8x7x7xf32>, %out : memref<1x24x7x7xf32>, %out2 : memref<1x16x7x7xf32>) {
  %a = memref.alloc() : memref<1x24x7x7xf32>
  nn.conv2d ins(%x : memref<1x8x7x7xf32>) outs(%a : memref<1x24x7x7xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<192xf32>
  nn.conv2d ins(%a : memref<1x24x7x7xf32>) outs(%out : memref<1x24x7x7xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 24 activation relu6 weights dense<0.5> : tensor<216xf32>
  nn.adaptive_avg_pool2d ins(%a : memref<1x24x7x7xf32>) outs(%p : memref<1x24x1x1xf32>)
  %b = memref.alloc() : memref<1x24x7x7xf32>
  nn.conv2d ins(%x : memref<1x8x7x7xf32>) outs(%b : memref<1x24x7x7xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<192xf32>
  nn.activation ins(%x : memref<1x8x7x7xf32>) outs(%z : memref<1x8x7x7xf32>) activation relu
  nn.conv2d ins(%b : memref<1x24x7x7xf32>) outs(%out : memref<1x24x7x7xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 24 activation relu6 weights dense<0.5> : tensor<216xf32>
  %c = memref.alloc() : memref<1x8x7x7xf32>
  nn.conv2d ins(%x, %z : memref<1x8x7x7xf32>, memref<1x8x7x7xf32>) outs(%c : memref<1x8x7x7xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<64xf32>
  nn.conv2d ins(%c : memref<1x8x7x7xf32>) outs(%z : memref<1x8x7x7xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 8 activation relu6 weights dense<0.5> : tensor<72xf32>
  %m = memref.alloc() : memref<1x16x7x7xf32>
  nn.conv2d ins(%z : memref<1x8x7x7xf32>) outs(%m : memref<1x16x7x7xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 8 activation relu6 weights dense<0.5> : tensor<144xf32>
  nn.conv2d ins(%m : memref<1x16x7x7xf32>) outs(%out2 : memref<1x16x7x7xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<256xf32>
  func.return
}

// min_kib counts the largest intermediate tensor per image: 32 x 8 x 8 floats = 8 KiB here (16 KiB
// for the batch of 2), fused at min_kib=8, left alone at 9 — as @inverted_residual (7.6 KiB) is
// at 8. plan-buffers counts the residual %r, read inside the chain, as used at the chain: it may
// not share bytes with %a, written after %r.
// MIN-LABEL: func.func @min_size
// MIN:         nn.conv_chain ins(%a : memref<2x8x8x8xf32>) outs(%y : memref<2x8x8x8xf32>) rows 8 {
// MIN9-LABEL: func.func @min_size
// MIN9-NOT:     nn.conv_chain
// MIN9:         func.return
// PLAN-LABEL: func.func @min_size
// PLAN-SAME:    attributes {patdnn.arena_bytes = 8192 : i64}
// PLAN-NEXT:    %r = memref.alloc() {patdnn.offset = 0 : i64} : memref<2x8x8x8xf32>
// PLAN-NEXT:    %a = memref.alloc() {patdnn.offset = 4096 : i64} : memref<2x8x8x8xf32>
func.func @min_size(%x : memref<2x8x8x8xf32>, %y : memref<2x8x8x8xf32>) {
  %r = memref.alloc() : memref<2x8x8x8xf32>
  %a = memref.alloc() : memref<2x8x8x8xf32>
  nn.activation ins(%x : memref<2x8x8x8xf32>) outs(%r : memref<2x8x8x8xf32>) activation relu6
  nn.activation ins(%x : memref<2x8x8x8xf32>) outs(%a : memref<2x8x8x8xf32>) activation relu
  %e = memref.alloc() : memref<2x32x8x8xf32>
  nn.conv2d ins(%a : memref<2x8x8x8xf32>) outs(%e : memref<2x32x8x8xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<256xf32>
  %d = memref.alloc() : memref<2x32x8x8xf32>
  nn.conv2d ins(%e : memref<2x32x8x8xf32>) outs(%d : memref<2x32x8x8xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 32 activation relu6 weights dense<0.5> : tensor<288xf32>
  nn.conv2d ins(%d, %r : memref<2x32x8x8xf32>, memref<2x8x8x8xf32>) outs(%y : memref<2x8x8x8xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<256xf32>
  func.return
}
