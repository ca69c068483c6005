// RUN: patdnn-opt %s -p plan-buffers | filecheck %s

// plan-buffers gives every memref.alloc of a function an arena offset (`patdnn.offset`, bytes,
// 64-byte aligned) and the function its peak (`patdnn.arena_bytes`). A buffer lives from its
// first to its last use; buffers whose ranges overlap (also when one op reads one and writes the
// other) get disjoint ranges; a dead buffer's bytes are reused. Largest first, then in order.

// A chain: a, b, c hold 2048 bytes (1x8x8x8 f32), p 512. a and b overlap (b = relu(a)), so b sits
// after a; a is dead when c is written, so c takes a's bytes; p overlaps c only and takes b's.
// Peak 4096, not 3 x 2048 + 512.
// CHECK-LABEL: func.func @chain
// CHECK-SAME:    attributes {patdnn.arena_bytes = 4096 : i64}
// CHECK-NEXT:    %a = memref.alloc() {patdnn.offset = 0 : i64} : memref<1x8x8x8xf32>
// CHECK-NEXT:    %b = memref.alloc() {patdnn.offset = 2048 : i64} : memref<1x8x8x8xf32>
// CHECK-NEXT:    %c = memref.alloc() {patdnn.offset = 0 : i64} : memref<1x8x8x8xf32>
// CHECK-NEXT:    %p = memref.alloc() {patdnn.offset = 2048 : i64} : memref<1x8x4x4xf32>
func.func @chain(%x: memref<1x8x8x8xf32>, %out: memref<1x8x4x4xf32>) {
  %a = memref.alloc() : memref<1x8x8x8xf32>
  %b = memref.alloc() : memref<1x8x8x8xf32>
  %c = memref.alloc() : memref<1x8x8x8xf32>
  %p = memref.alloc() : memref<1x8x4x4xf32>
  nn.activation ins(%x : memref<1x8x8x8xf32>) outs(%a : memref<1x8x8x8xf32>) activation relu
  nn.activation ins(%a : memref<1x8x8x8xf32>) outs(%b : memref<1x8x8x8xf32>) activation relu
  nn.activation ins(%b : memref<1x8x8x8xf32>) outs(%c : memref<1x8x8x8xf32>) activation relu6
  nn.pool2d ins(%c : memref<1x8x8x8xf32>) outs(%p : memref<1x8x4x4xf32>) kind max kernel [2, 2] stride [2, 2] padding [0, 0]
  nn.activation ins(%p : memref<1x8x4x4xf32>) outs(%out : memref<1x8x4x4xf32>) activation relu
  func.return
}

// A residual connection keeps a alive until the add: nothing can share bytes, peak 3 x 2048.
// CHECK-LABEL: func.func @residual
// CHECK-SAME:    attributes {patdnn.arena_bytes = 6144 : i64}
// CHECK-NEXT:    %a = memref.alloc() {patdnn.offset = 0 : i64}
// CHECK-NEXT:    %b = memref.alloc() {patdnn.offset = 2048 : i64}
// CHECK-NEXT:    %c = memref.alloc() {patdnn.offset = 4096 : i64}
func.func @residual(%x: memref<1x8x8x8xf32>, %out: memref<1x8x8x8xf32>) {
  %a = memref.alloc() : memref<1x8x8x8xf32>
  %b = memref.alloc() : memref<1x8x8x8xf32>
  %c = memref.alloc() : memref<1x8x8x8xf32>
  nn.activation ins(%x : memref<1x8x8x8xf32>) outs(%a : memref<1x8x8x8xf32>) activation relu
  nn.activation ins(%a : memref<1x8x8x8xf32>) outs(%b : memref<1x8x8x8xf32>) activation relu
  nn.add ins(%a, %b : memref<1x8x8x8xf32>, memref<1x8x8x8xf32>) outs(%c : memref<1x8x8x8xf32>) activation none
  nn.activation ins(%c : memref<1x8x8x8xf32>) outs(%out : memref<1x8x8x8xf32>) activation relu6
  func.return
}

// Sizes round up to 64 bytes: 3x5x5 f32 = 300 bytes -> 320, 6x5x5 = 600 -> 640; the larger t is
// placed first, s (live with t at the concat) after it.
// CHECK-LABEL: func.func @align
// CHECK-SAME:    attributes {patdnn.arena_bytes = 960 : i64}
// CHECK-NEXT:    %s = memref.alloc() {patdnn.offset = 640 : i64} : memref<1x3x5x5xf32>
// CHECK-NEXT:    %t = memref.alloc() {patdnn.offset = 0 : i64} : memref<1x6x5x5xf32>
func.func @align(%x: memref<1x3x5x5xf32>, %y: memref<1x3x5x5xf32>, %out: memref<1x6x5x5xf32>) {
  %s = memref.alloc() : memref<1x3x5x5xf32>
  %t = memref.alloc() : memref<1x6x5x5xf32>
  nn.activation ins(%x : memref<1x3x5x5xf32>) outs(%s : memref<1x3x5x5xf32>) activation relu
  nn.concat ins(%s, %y : memref<1x3x5x5xf32>, memref<1x3x5x5xf32>) outs(%t : memref<1x6x5x5xf32>)
  nn.activation ins(%t : memref<1x6x5x5xf32>) outs(%out : memref<1x6x5x5xf32>) activation relu
  func.return
}

// Left alone: function arguments are the caller's buffers (no offset); a function without
// allocs needs no arena; a declaration has no body and gets no attribute.
// CHECK-LABEL: func.func @no_allocs
// CHECK-SAME:    (%x: memref<2x10xf32>, %y: memref<2x10xf32>) attributes {patdnn.arena_bytes = 0 : i64} {
// CHECK-NEXT:    nn.softmax ins(%x : memref<2x10xf32>) outs(%y : memref<2x10xf32>){{$}}
// CHECK:       func.func private @external(memref<2x10xf32>) -> (){{$}}
// CHECK-NOT:   patdnn.
func.func @no_allocs(%x: memref<2x10xf32>, %y: memref<2x10xf32>) {
  nn.softmax ins(%x : memref<2x10xf32>) outs(%y : memref<2x10xf32>)
  func.return
}
func.func private @external(memref<2x10xf32>)

// Constants: %k, written only by nn.constant, takes no arena space (`patdnn.constant`: the
// backends bind it to its weights); %w is written by the constant and then by an add, so it is an
// ordinary buffer, live from the constant op (its first use) to its last reader.
// CHECK-LABEL: func.func @constants
// CHECK-SAME:    attributes {patdnn.arena_bytes = 2048 : i64}
// CHECK-NEXT:    %k = memref.alloc() {patdnn.constant} : memref<1x8x8x8xf32>
// CHECK-NEXT:    %w = memref.alloc() {patdnn.offset = 0 : i64} : memref<1x8x8x8xf32>
func.func @constants(%x: memref<1x8x8x8xf32>, %out: memref<1x8x8x8xf32>) {
  %k = memref.alloc() : memref<1x8x8x8xf32>
  %w = memref.alloc() : memref<1x8x8x8xf32>
  nn.constant outs(%k : memref<1x8x8x8xf32>) weights dense<0.5> : tensor<512xf32>
  nn.constant outs(%w : memref<1x8x8x8xf32>) weights dense<0.25> : tensor<512xf32>
  nn.add ins(%x, %w : memref<1x8x8x8xf32>, memref<1x8x8x8xf32>) outs(%w : memref<1x8x8x8xf32>) activation none
  nn.add ins(%w, %k : memref<1x8x8x8xf32>, memref<1x8x8x8xf32>) outs(%out : memref<1x8x8x8xf32>) activation relu
  func.return
}
