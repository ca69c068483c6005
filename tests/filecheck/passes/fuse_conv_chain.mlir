// RUN: patdnn-opt %s -p fuse-conv-chain | filecheck %s
// RUN: patdnn-opt %s -p fuse-conv-chain | filecheck %s --check-prefix=NOPLAN
// RUN: patdnn-opt %s -p "fuse-conv-chain{budget_kib=32}" | filecheck %s --check-prefix=BAND
// RUN: patdnn-opt %s -p "fuse-conv-chain{budget_kib=8}" | filecheck %s --check-prefix=CAP
// RUN: patdnn-opt %s -p "fuse-conv-chain{threads=2}" | filecheck %s --check-prefix=T2
// RUN: patdnn-opt %s -p "fuse-conv-chain{threads=6}" | filecheck %s --check-prefix=T6
// RUN: patdnn-opt %s -p "fuse-conv-chain{min_kib=8}" | filecheck %s --check-prefix=MIN
// RUN: patdnn-opt %s -p "fuse-conv-chain{min_kib=9}" | filecheck %s --check-prefix=MIN9
// RUN: patdnn-opt %s -p fuse-conv-chain,plan-buffers | filecheck %s --check-prefix=PLAN
// RUN: patdnn-opt %s -p plan-buffers | filecheck %s --check-prefix=UNFUSED

// The pass plans the functions (to compare the arenas) on copies: its output has no plan.
// NOPLAN-NOT: patdnn.

// MobileNet-V2's inverted residual: expand 1x1 -> depthwise 3x3 -> project 1x1 + the block's
// input. The three convs move, unchanged and with their allocs, into one nn.conv_chain where the
// project was, its scratch (threads x slot floats) allocated just before it. A band of r rows
// needs a slot of 8448 r + 8704 bytes (r + 2 padded input rows of 34 x 32 floats, r depthwise
// output rows of 32 x 32): 30 rows would fill the 256 KiB budget, but the slots may only take the
// room below the function's peak of live bytes, here the expanded and the depthwise tensors
// (2 x 96 KiB) with nothing else live during the chain (%x and %y are arguments): 22 rows
// (194560 bytes). 2 rows fit in 32 KiB; in 8 KiB not even one, but a band has one row at least.
// Two threads' slots fit 10 rows (2 x 93184 bytes), six threads' 2 (6 x 25600). plan-buffers
// places the scratch like any buffer (the arena: the slot, below the unfused 192 KiB) and the
// intermediate tensors not at all: they only exist band by band in the scratch.
// CHECK-LABEL: func.func @inverted_residual
// CHECK-NEXT:    [[S:%[0-9a-z_]+]] = memref.alloc() : memref<1x48640xf32>
// CHECK-NEXT:    nn.conv_chain ins(%x : memref<1x8x32x32xf32>) outs(%y : memref<1x8x32x32xf32>) scratch([[S]] : memref<1x48640xf32>) rows 22 {{[{]$}}
// CHECK-NEXT:      %e = memref.alloc() : memref<1x24x32x32xf32>
// CHECK-NEXT:      nn.conv2d ins(%x : memref<1x8x32x32xf32>) outs(%e : memref<1x24x32x32xf32>) kernel [1, 1] {{.*}} activation relu6 {{.*}} {layer = "expand"}
// CHECK-NEXT:      %d = memref.alloc() : memref<1x24x32x32xf32>
// CHECK-NEXT:      nn.conv2d ins(%e : memref<1x24x32x32xf32>) outs(%d : memref<1x24x32x32xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 24 activation relu6 {{.*}} {layer = "dw"}
// CHECK-NEXT:      nn.conv2d ins(%d, %x : memref<1x24x32x32xf32>, memref<1x8x32x32xf32>) outs(%y : memref<1x8x32x32xf32>) kernel [1, 1] {{.*}} {layer = "project"}
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return
// BAND-LABEL: func.func @inverted_residual
// BAND-NEXT:    [[S:%[0-9a-z_]+]] = memref.alloc() : memref<1x6400xf32>
// BAND-NEXT:    nn.conv_chain ins(%x : memref<1x8x32x32xf32>) outs(%y : memref<1x8x32x32xf32>) scratch([[S]] : memref<1x6400xf32>) rows 2 {
// CAP-LABEL: func.func @inverted_residual
// CAP-NEXT:    [[S:%[0-9a-z_]+]] = memref.alloc() : memref<1x4288xf32>
// CAP-NEXT:    nn.conv_chain ins(%x : memref<1x8x32x32xf32>) outs(%y : memref<1x8x32x32xf32>) scratch([[S]] : memref<1x4288xf32>) rows 1 {
// T2-LABEL: func.func @inverted_residual
// T2-NEXT:    [[S:%[0-9a-z_]+]] = memref.alloc() : memref<2x23296xf32>
// T2-NEXT:    nn.conv_chain ins(%x : memref<1x8x32x32xf32>) outs(%y : memref<1x8x32x32xf32>) scratch([[S]] : memref<2x23296xf32>) rows 10 {
// T6-LABEL: func.func @inverted_residual
// T6-NEXT:    [[S:%[0-9a-z_]+]] = memref.alloc() : memref<6x6400xf32>
// T6-NEXT:    nn.conv_chain ins(%x : memref<1x8x32x32xf32>) outs(%y : memref<1x8x32x32xf32>) scratch([[S]] : memref<6x6400xf32>) rows 2 {
// MIN-LABEL: func.func @inverted_residual
// MIN-NEXT:    memref.alloc
// MIN-NEXT:    nn.conv_chain
// PLAN-LABEL: func.func @inverted_residual
// PLAN-SAME:    attributes {patdnn.arena_bytes = 194560 : i64}
// PLAN-NEXT:    [[S:%[0-9a-z_]+]] = memref.alloc() {patdnn.offset = 0 : i64} : memref<1x48640xf32>
// PLAN-NEXT:    nn.conv_chain
// PLAN-NEXT:      %e = memref.alloc() : memref<1x24x32x32xf32>
// UNFUSED-LABEL: func.func @inverted_residual
// UNFUSED-SAME:    attributes {patdnn.arena_bytes = 196608 : i64}
func.func @inverted_residual(%x : memref<1x8x32x32xf32>, %y : memref<1x8x32x32xf32>) {
  %e = memref.alloc() : memref<1x24x32x32xf32>
  nn.conv2d ins(%x : memref<1x8x32x32xf32>) outs(%e : memref<1x24x32x32xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<192xf32> bias dense<0.25> : tensor<24xf32> {layer = "expand"}
  %d = memref.alloc() : memref<1x24x32x32xf32>
  nn.conv2d ins(%e : memref<1x24x32x32xf32>) outs(%d : memref<1x24x32x32xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 24 activation relu6 weights dense<0.5> : tensor<216xf32> {layer = "dw"}
  nn.conv2d ins(%d, %x : memref<1x24x32x32xf32>, memref<1x8x32x32xf32>) outs(%y : memref<1x8x32x32xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<192xf32> {layer = "project"}
  func.return
}

// MobileNet-V2's first block has no expand: a strided depthwise on the input, then the project.
// The depthwise's output (both images: 8 KiB) is the function's peak: slots of 2688 r + 1088
// bytes fit 2 rows (6464); two threads', 1 (2 x 3776); six threads' slots of one row (22656 bytes)
// do not fit: unfused. Per image the tensor is 4 KiB, below min_kib=8.
// CHECK-LABEL: func.func @no_expand
// CHECK-NEXT:    [[S:%[0-9a-z_]+]] = memref.alloc() : memref<1x1616xf32>
// CHECK-NEXT:    nn.conv_chain ins(%x : memref<2x16x15x15xf32>) outs(%y : memref<2x24x8x8xf32>) scratch([[S]] : memref<1x1616xf32>) rows 2 {
// CHECK-NEXT:      %d = memref.alloc() : memref<2x16x8x8xf32>
// CHECK-NEXT:      nn.conv2d ins(%x : memref<2x16x15x15xf32>) outs(%d : memref<2x16x8x8xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups 16
// CHECK-NEXT:      nn.conv2d ins(%d : memref<2x16x8x8xf32>) outs(%y : memref<2x24x8x8xf32>) kernel [1, 1]
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return
// T2-LABEL: func.func @no_expand
// T2-NEXT:    [[S:%[0-9a-z_]+]] = memref.alloc() : memref<2x944xf32>
// T2-NEXT:    nn.conv_chain ins(%x : memref<2x16x15x15xf32>) outs(%y : memref<2x24x8x8xf32>) scratch([[S]] : memref<2x944xf32>) rows 1 {
// T6-LABEL: func.func @no_expand
// T6-NEXT:    %d = memref.alloc() : memref<2x16x8x8xf32>
// T6-NOT:     nn.conv_chain
// T6:         func.return
// MIN-LABEL: func.func @no_expand
// MIN-NOT:     nn.conv_chain
// MIN:         func.return
func.func @no_expand(%x : memref<2x16x15x15xf32>, %y : memref<2x24x8x8xf32>) {
  %d = memref.alloc() : memref<2x16x8x8xf32>
  nn.conv2d ins(%x : memref<2x16x15x15xf32>) outs(%d : memref<2x16x8x8xf32>) kernel [3, 3] stride [2, 2] padding [1, 1] groups 16 activation relu6 weights dense<0.5> : tensor<144xf32>
  nn.conv2d ins(%d : memref<2x16x8x8xf32>) outs(%y : memref<2x24x8x8xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<384xf32>
  func.return
}

// A squeeze-excitation block: the depthwise's output is also pooled, so the chain ends at the
// depthwise (its output stays a whole tensor, allocated outside) and the project runs after the
// pool, unfused. The depthwise's output, live during the chain, and the expanded tensor make the
// peak (48 KiB), so the slot may take the expanded tensor's 24 KiB: 3 rows (24064 bytes); two
// threads' slots of one row (2 x 14848 bytes) do not fit: unfused.
// CHECK-LABEL: func.func @no_project
// CHECK-NEXT:    %d = memref.alloc() : memref<1x24x16x16xf32>
// CHECK-NEXT:    [[S:%[0-9a-z_]+]] = memref.alloc() : memref<1x6016xf32>
// CHECK-NEXT:    nn.conv_chain ins(%x : memref<1x8x16x16xf32>) outs(%d : memref<1x24x16x16xf32>) scratch([[S]] : memref<1x6016xf32>) rows 3 {
// CHECK-NEXT:      %e = memref.alloc() : memref<1x24x16x16xf32>
// CHECK-NEXT:      nn.conv2d ins(%x : memref<1x8x16x16xf32>) outs(%e : memref<1x24x16x16xf32>) kernel [1, 1]
// CHECK-NEXT:      nn.conv2d ins(%e : memref<1x24x16x16xf32>) outs(%d : memref<1x24x16x16xf32>) kernel [5, 5] stride [1, 1] padding [2, 2] groups 24
// CHECK-NEXT:    }
// CHECK-NEXT:    nn.adaptive_avg_pool2d ins(%d : memref<1x24x16x16xf32>) outs(%s : memref<1x24x1x1xf32>)
// CHECK-NEXT:    nn.conv2d ins(%d : memref<1x24x16x16xf32>) outs(%y : memref<1x8x16x16xf32>) kernel [1, 1]
// CHECK-NEXT:    func.return
// T2-LABEL: func.func @no_project
// T2-NOT:     nn.conv_chain
// T2:         func.return
func.func @no_project(%x : memref<1x8x16x16xf32>, %s : memref<1x24x1x1xf32>, %y : memref<1x8x16x16xf32>) {
  %e = memref.alloc() : memref<1x24x16x16xf32>
  nn.conv2d ins(%x : memref<1x8x16x16xf32>) outs(%e : memref<1x24x16x16xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation hardswish weights dense<0.5> : tensor<192xf32>
  %d = memref.alloc() : memref<1x24x16x16xf32>
  nn.conv2d ins(%e : memref<1x24x16x16xf32>) outs(%d : memref<1x24x16x16xf32>) kernel [5, 5] stride [1, 1] padding [2, 2] groups 24 activation hardswish weights dense<0.5> : tensor<600xf32>
  nn.adaptive_avg_pool2d ins(%d : memref<1x24x16x16xf32>) outs(%s : memref<1x24x1x1xf32>)
  nn.conv2d ins(%d : memref<1x24x16x16xf32>) outs(%y : memref<1x8x16x16xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<192xf32>
  func.return
}

// Every band reads all of a chain's weights: a chain with more weights than the budget (13152
// floats, 52608 bytes: 64 -> 96 -> 64 channels) gets a budget of its weights' size, at most 4x
// the option's. A band of r rows takes 6912 r + 7680 bytes, and the room below the peak (the two
// intermediate tensors, 2 x 24 KiB) fits 6 rows (49152 bytes): with 256 KiB, 6. In 32 KiB only 3
// rows would fit, but the weights raise it to 52608 bytes: 6 again; 8 KiB is raised to 32 KiB
// (4x, not to the weights' size): 3. Two threads' slots fit 2 rows (2 x 21504 bytes).
// CHECK-LABEL: func.func @heavy_weights
// CHECK-NEXT:    [[S:%[0-9a-z_]+]] = memref.alloc() : memref<1x12288xf32>
// CHECK-NEXT:    nn.conv_chain ins(%x : memref<1x64x8x8xf32>) outs(%y : memref<1x64x8x8xf32>) scratch([[S]] : memref<1x12288xf32>) rows 6 {
// BAND-LABEL: func.func @heavy_weights
// BAND-NEXT:    [[S:%[0-9a-z_]+]] = memref.alloc() : memref<1x12288xf32>
// BAND-NEXT:    nn.conv_chain ins(%x : memref<1x64x8x8xf32>) outs(%y : memref<1x64x8x8xf32>) scratch([[S]] : memref<1x12288xf32>) rows 6 {
// CAP-LABEL: func.func @heavy_weights
// CAP-NEXT:    [[S:%[0-9a-z_]+]] = memref.alloc() : memref<1x7104xf32>
// CAP-NEXT:    nn.conv_chain ins(%x : memref<1x64x8x8xf32>) outs(%y : memref<1x64x8x8xf32>) scratch([[S]] : memref<1x7104xf32>) rows 3 {
// T2-LABEL: func.func @heavy_weights
// T2-NEXT:    [[S:%[0-9a-z_]+]] = memref.alloc() : memref<2x5376xf32>
// T2-NEXT:    nn.conv_chain ins(%x : memref<1x64x8x8xf32>) outs(%y : memref<1x64x8x8xf32>) scratch([[S]] : memref<2x5376xf32>) rows 2 {
func.func @heavy_weights(%x : memref<1x64x8x8xf32>, %y : memref<1x64x8x8xf32>) {
  %e = memref.alloc() : memref<1x96x8x8xf32>
  nn.conv2d ins(%x : memref<1x64x8x8xf32>) outs(%e : memref<1x96x8x8xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<6144xf32>
  %d = memref.alloc() : memref<1x96x8x8xf32>
  nn.conv2d ins(%e : memref<1x96x8x8xf32>) outs(%d : memref<1x96x8x8xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 96 activation relu6 weights dense<0.5> : tensor<864xf32>
  nn.conv2d ins(%d : memref<1x96x8x8xf32>) outs(%y : memref<1x64x8x8xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<6144xf32>
  func.return
}

// The room below the peak, not the chain's own tensors, bounds its scratch: this chain's
// intermediate tensor (2 channels, 512 bytes) is far smaller than a slot of one row (its channels
// padded to 16: 1152 r + 1280 bytes), but the function's peak is elsewhere, %b and %t (4608
// bytes), and only %t (the chain's input) is live during the chain: 4096 bytes of room, 2 rows
// (3584), which plan-buffers places where %b was (the arena stays at the unfused peak). The conv
// writing %t has 2 groups: no chain's expand. Two threads' one-row slots (2 x 2432 bytes) do
// not fit: unfused.
// CHECK-LABEL: func.func @room_below_peak
// CHECK:         [[S:%[0-9a-z_]+]] = memref.alloc() : memref<1x896xf32>
// CHECK-NEXT:    nn.conv_chain ins(%t : memref<1x2x8x8xf32>) outs(%y : memref<1x4x8x8xf32>) scratch([[S]] : memref<1x896xf32>) rows 2 {
// T2-LABEL: func.func @room_below_peak
// T2-NOT:     nn.conv_chain
// T2:         func.return
// PLAN-LABEL: func.func @room_below_peak
// PLAN-SAME:    attributes {patdnn.arena_bytes = 4608 : i64}
func.func @room_below_peak(%x : memref<1x16x8x8xf32>, %y : memref<1x4x8x8xf32>) {
  %b = memref.alloc() : memref<1x16x8x8xf32>
  nn.activation ins(%x : memref<1x16x8x8xf32>) outs(%b : memref<1x16x8x8xf32>) activation relu
  %t = memref.alloc() : memref<1x2x8x8xf32>
  nn.conv2d ins(%b : memref<1x16x8x8xf32>) outs(%t : memref<1x2x8x8xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 2 activation none weights dense<0.5> : tensor<16xf32>
  %d = memref.alloc() : memref<1x2x8x8xf32>
  nn.conv2d ins(%t : memref<1x2x8x8xf32>) outs(%d : memref<1x2x8x8xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 2 activation relu6 weights dense<0.5> : tensor<18xf32>
  nn.conv2d ins(%d : memref<1x2x8x8xf32>) outs(%y : memref<1x4x8x8xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<8xf32>
  func.return
}

// The same with %b half as large: the peak (2560 bytes) leaves 2048 bytes of room, less than a
// slot of one row (2432 bytes): fused, the chain would raise the peak to 2944 bytes. Unfused.
// CHECK-LABEL: func.func @no_room_below_peak
// CHECK-NOT:     nn.conv_chain
// CHECK:         func.return
func.func @no_room_below_peak(%x : memref<1x8x8x8xf32>, %y : memref<1x4x8x8xf32>) {
  %b = memref.alloc() : memref<1x8x8x8xf32>
  nn.activation ins(%x : memref<1x8x8x8xf32>) outs(%b : memref<1x8x8x8xf32>) activation relu
  %t = memref.alloc() : memref<1x2x8x8xf32>
  nn.conv2d ins(%b : memref<1x8x8x8xf32>) outs(%t : memref<1x2x8x8xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 2 activation none weights dense<0.5> : tensor<8xf32>
  %d = memref.alloc() : memref<1x2x8x8xf32>
  nn.conv2d ins(%t : memref<1x2x8x8xf32>) outs(%d : memref<1x2x8x8xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 2 activation relu6 weights dense<0.5> : tensor<18xf32>
  nn.conv2d ins(%d : memref<1x2x8x8xf32>) outs(%y : memref<1x4x8x8xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<8xf32>
  func.return
}

// The room rule bounds the live bytes; plan-buffers' first-fit packing of them can still land
// above: here the chain's live bytes with 5 rows (%b, %c and 7040 bytes of slot: 11648) stay below
// the peak (%a and %b: 12288), but no first-fit order fits the slot and %c between the places of
// %a, %b and %f: the fused arena would be 12800 bytes. The pass halves the rows: with 2 (3584
// bytes) the arena is the unfused one's, 12288.
// CHECK-LABEL: func.func @first_fit_halves
// CHECK:         [[S:%[0-9a-z_]+]] = memref.alloc() : memref<1x896xf32>
// CHECK-NEXT:    nn.conv_chain ins(%b : memref<1x16x8x8xf32>) outs(%c : memref<1x2x8x8xf32>) scratch([[S]] : memref<1x896xf32>) rows 2 {
// PLAN-LABEL: func.func @first_fit_halves
// PLAN-SAME:    attributes {patdnn.arena_bytes = 12288 : i64}
// UNFUSED-LABEL: func.func @first_fit_halves
// UNFUSED-SAME:    attributes {patdnn.arena_bytes = 12288 : i64}
func.func @first_fit_halves(%x : memref<1x4x8x8xf32>, %y : memref<1x4x8x8xf32>) {
  %a = memref.alloc() : memref<1x32x8x8xf32>
  nn.conv2d ins(%x : memref<1x4x8x8xf32>) outs(%a : memref<1x32x8x8xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu weights dense<0.5> : tensor<128xf32>
  %b = memref.alloc() : memref<1x16x8x8xf32>
  nn.conv2d ins(%a : memref<1x32x8x8xf32>) outs(%b : memref<1x16x8x8xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu weights dense<0.5> : tensor<512xf32>
  %e = memref.alloc() : memref<1x16x8x8xf32>
  nn.conv2d ins(%b : memref<1x16x8x8xf32>) outs(%e : memref<1x16x8x8xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<256xf32>
  %d = memref.alloc() : memref<1x16x8x8xf32>
  nn.conv2d ins(%e : memref<1x16x8x8xf32>) outs(%d : memref<1x16x8x8xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 16 activation relu6 weights dense<0.5> : tensor<144xf32>
  %c = memref.alloc() : memref<1x2x8x8xf32>
  nn.conv2d ins(%d : memref<1x16x8x8xf32>) outs(%c : memref<1x2x8x8xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<32xf32>
  %f = memref.alloc() : memref<1x32x8x8xf32>
  nn.conv2d ins(%c : memref<1x2x8x8xf32>) outs(%f : memref<1x32x8x8xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu weights dense<0.5> : tensor<64xf32>
  nn.conv2d ins(%f : memref<1x32x8x8xf32>) outs(%y : memref<1x4x8x8xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<128xf32>
  func.return
}

// Likewise from 3 rows (4736 bytes of slot, 5120 of room), but with one row (2432 bytes) too the
// fused arena is above the unfused one (11264 bytes against 10240): at one row the pass unfuses the
// chain, its ops back in order.
// CHECK-LABEL: func.func @first_fit_unfuses
// CHECK-NOT:     nn.conv_chain
// CHECK:         %e = memref.alloc() : memref<1x8x8x8xf32>
// CHECK-NEXT:    nn.conv2d ins(%b : memref<1x16x8x8xf32>) outs(%e : memref<1x8x8x8xf32>) kernel [1, 1]
// CHECK-NEXT:    %d = memref.alloc() : memref<1x8x8x8xf32>
// CHECK-NEXT:    nn.conv2d ins(%e : memref<1x8x8x8xf32>) outs(%d : memref<1x8x8x8xf32>) kernel [3, 3]
// CHECK-NEXT:    nn.conv2d ins(%d : memref<1x8x8x8xf32>) outs(%c : memref<1x4x8x8xf32>) kernel [1, 1]
// CHECK-NEXT:    %f = memref.alloc() : memref<1x32x8x8xf32>
// CHECK-NOT:     nn.conv_chain
// CHECK:         func.return
func.func @first_fit_unfuses(%x : memref<1x4x8x8xf32>, %y : memref<1x4x8x8xf32>) {
  %a = memref.alloc() : memref<1x24x8x8xf32>
  nn.conv2d ins(%x : memref<1x4x8x8xf32>) outs(%a : memref<1x24x8x8xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu weights dense<0.5> : tensor<96xf32>
  %b = memref.alloc() : memref<1x16x8x8xf32>
  nn.conv2d ins(%a : memref<1x24x8x8xf32>) outs(%b : memref<1x16x8x8xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu weights dense<0.5> : tensor<384xf32>
  %e = memref.alloc() : memref<1x8x8x8xf32>
  nn.conv2d ins(%b : memref<1x16x8x8xf32>) outs(%e : memref<1x8x8x8xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<128xf32>
  %d = memref.alloc() : memref<1x8x8x8xf32>
  nn.conv2d ins(%e : memref<1x8x8x8xf32>) outs(%d : memref<1x8x8x8xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 8 activation relu6 weights dense<0.5> : tensor<72xf32>
  %c = memref.alloc() : memref<1x4x8x8xf32>
  nn.conv2d ins(%d : memref<1x8x8x8xf32>) outs(%c : memref<1x4x8x8xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<32xf32>
  %f = memref.alloc() : memref<1x32x8x8xf32>
  nn.conv2d ins(%c : memref<1x4x8x8xf32>) outs(%f : memref<1x32x8x8xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu weights dense<0.5> : tensor<128xf32>
  nn.conv2d ins(%f : memref<1x32x8x8xf32>) outs(%y : memref<1x4x8x8xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<128xf32>
  func.return
}

// Left alone, each in its own function (the same chain alone would fuse: its tensors are all the
// arena holds): an expanded tensor another op reads too (it must exist whole), with no project
// after the depthwise; an op between the expand and the depthwise (the convs must be
// consecutive); a depthwise whose only neighbour is a 1x1 that adds a residual (the expand may not
// take one); a "depthwise" with a channel multiplier (groups 8, 16 outputs) before a 1x1.
// CHECK-LABEL: func.func @shared_expanded_tensor
// CHECK-NOT:     nn.conv_chain
// CHECK:         func.return
func.func @shared_expanded_tensor(%x : memref<1x8x16x16xf32>, %p : memref<1x24x1x1xf32>, %out : memref<1x24x16x16xf32>) {
  %a = memref.alloc() : memref<1x24x16x16xf32>
  nn.conv2d ins(%x : memref<1x8x16x16xf32>) outs(%a : memref<1x24x16x16xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<192xf32>
  nn.conv2d ins(%a : memref<1x24x16x16xf32>) outs(%out : memref<1x24x16x16xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 24 activation relu6 weights dense<0.5> : tensor<216xf32>
  nn.adaptive_avg_pool2d ins(%a : memref<1x24x16x16xf32>) outs(%p : memref<1x24x1x1xf32>)
  func.return
}

// CHECK-LABEL: func.func @op_between
// CHECK-NOT:     nn.conv_chain
// CHECK:         func.return
func.func @op_between(%x : memref<1x8x16x16xf32>, %z : memref<1x8x16x16xf32>, %out : memref<1x24x16x16xf32>) {
  %b = memref.alloc() : memref<1x24x16x16xf32>
  nn.conv2d ins(%x : memref<1x8x16x16xf32>) outs(%b : memref<1x24x16x16xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation relu6 weights dense<0.5> : tensor<192xf32>
  nn.activation ins(%x : memref<1x8x16x16xf32>) outs(%z : memref<1x8x16x16xf32>) activation relu
  nn.conv2d ins(%b : memref<1x24x16x16xf32>) outs(%out : memref<1x24x16x16xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 24 activation relu6 weights dense<0.5> : tensor<216xf32>
  func.return
}

// CHECK-LABEL: func.func @residual_before_depthwise
// CHECK-NOT:     nn.conv_chain
// CHECK:         func.return
func.func @residual_before_depthwise(%x : memref<1x8x16x16xf32>, %r : memref<1x8x16x16xf32>, %out : memref<1x8x16x16xf32>) {
  %c = memref.alloc() : memref<1x8x16x16xf32>
  nn.conv2d ins(%x, %r : memref<1x8x16x16xf32>, memref<1x8x16x16xf32>) outs(%c : memref<1x8x16x16xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<64xf32>
  nn.conv2d ins(%c : memref<1x8x16x16xf32>) outs(%out : memref<1x8x16x16xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 8 activation relu6 weights dense<0.5> : tensor<72xf32>
  func.return
}

// CHECK-LABEL: func.func @channel_multiplier
// CHECK-NOT:     nn.conv_chain
// CHECK:         func.return
func.func @channel_multiplier(%x : memref<1x8x16x16xf32>, %out : memref<1x16x16x16xf32>) {
  %m = memref.alloc() : memref<1x16x16x16xf32>
  nn.conv2d ins(%x : memref<1x8x16x16xf32>) outs(%m : memref<1x16x16x16xf32>) kernel [3, 3] stride [1, 1] padding [1, 1] groups 8 activation relu6 weights dense<0.5> : tensor<144xf32>
  nn.conv2d ins(%m : memref<1x16x16x16xf32>) outs(%out : memref<1x16x16x16xf32>) kernel [1, 1] stride [1, 1] padding [0, 0] groups 1 activation none weights dense<0.5> : tensor<256xf32>
  func.return
}

// min_kib counts the largest intermediate tensor per image: 32 x 8 x 8 floats = 8 KiB here (16 KiB
// for the batch of 2), fused at min_kib=8, left alone at 9. The unfused live bytes peak at the
// depthwise (36 KiB: %r, the expanded and the depthwise tensors); %r and %a stay live during the
// chain (8 KiB), so the slots may take 28 KiB: all 8 rows (20992 bytes) with one thread, 5
// (2 x 14080 bytes) with two. plan-buffers counts the residual %r, read inside the chain, as used
// at the chain: %r, %a and the scratch, all live there, share no bytes (the arena is their sum).
// CHECK-LABEL: func.func @min_size
// CHECK:         [[S:%[0-9a-z_]+]] = memref.alloc() : memref<1x5248xf32>
// CHECK-NEXT:    nn.conv_chain ins(%a : memref<2x8x8x8xf32>) outs(%y : memref<2x8x8x8xf32>) scratch([[S]] : memref<1x5248xf32>) rows 8 {
// T2-LABEL: func.func @min_size
// T2:         [[S:%[0-9a-z_]+]] = memref.alloc() : memref<2x3520xf32>
// T2-NEXT:    nn.conv_chain ins(%a : memref<2x8x8x8xf32>) outs(%y : memref<2x8x8x8xf32>) scratch([[S]] : memref<2x3520xf32>) rows 5 {
// MIN-LABEL: func.func @min_size
// MIN:         nn.conv_chain ins(%a : memref<2x8x8x8xf32>) outs(%y : memref<2x8x8x8xf32>) scratch({{.*}}) rows 8 {
// MIN9-LABEL: func.func @min_size
// MIN9-NOT:     nn.conv_chain
// MIN9:         func.return
// PLAN-LABEL: func.func @min_size
// PLAN-SAME:    attributes {patdnn.arena_bytes = 29184 : i64}
// PLAN-NEXT:    %r = memref.alloc() {patdnn.offset = {{[0-9]+}} : i64} : memref<2x8x8x8xf32>
// PLAN-NEXT:    %a = memref.alloc() {patdnn.offset = {{[0-9]+}} : i64} : memref<2x8x8x8xf32>
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
