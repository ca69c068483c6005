// RUN: patdnn-opt %s -p plan-buffers -t "c{isa=scalar}" | filecheck %s
// RUN: patdnn-opt %s -p plan-buffers -t opencl | filecheck %s --check-prefix=CL

// The layout and normalisation ops' runtime calls (C) and launches (OpenCL). A permute is
// emitted on its reduced form: size-1 dims dropped, dims that stay adjacent merged (NCHW → NHWC
// of 2x6x5x7 is 2x6x35 by [0, 2, 1]); a channel shuffle is the permute of its (N, g, C/g, HW)
// view; a permute that moves nothing is a copy. Axes become outer x m x inner sizes.

// CHECK:      static const int64_t shape[] = {2, 6, 35}; static const int perm[] = {0, 2, 1};
// CHECK-SAME:   pdnn_permute(ctx, {{.*}}, 3, shape, perm);
// CHECK:      static const int64_t shape[] = {2, 3, 2, 35}; static const int perm[] = {0, 2, 1, 3};
// CHECK:      pdnn_copy(ctx, {{.*}}, 420);
// CHECK:      pdnn_copy(ctx, {{.*}}, 420);
// CHECK:      pdnn_slice(ctx, {{.*}}, 2, 6, 2, 35, 1, 2);
// CHECK:      pdnn_layer_norm(ctx, {{.*}}, nn{{[0-9]+}}_norm_ln_w, NULL, 2, 6, 35, 1e-06f);
// CHECK:      pdnn_scale_shift(ctx, {{.*}}, nn{{[0-9]+}}_affine_bn_w, NULL, 2, 6, 35, PDNN_ACT_RELU);
// CHECK:      pdnn_mean_axes(ctx, {{.*}}, 2, 6, 35);
// CHECK:      pdnn_softmax_axis(ctx, {{.*}}, 2, 6, 35, 1);
// CHECK:      pdnn_softmax(ctx, {{.*}}, 60, 7);
// CHECK:      static const int64_t inner[] = {210, 210}; pdnn_concat(ctx, ins, inner, 2, {{.*}}, 2);

// CL: "pdnn_permute"
// CL: "pdnn_permute"
// CL: "pdnn_activation"
// CL: "pdnn_activation"
// CL: "pdnn_slice"
// CL: "pdnn_layer_norm"
// CL: "pdnn_scale_shift"
// CL: "pdnn_mean_axes"
// CL: "pdnn_softmax_axis"
// CL: "pdnn_softmax"
// CL: "pdnn_concat_part"
func.func @model(%x: memref<2x6x5x7xf32>, %out: memref<2x12x5x7xf32>) {
  %p = memref.alloc() : memref<2x5x7x6xf32>
  nn.permute ins(%x : memref<2x6x5x7xf32>) outs(%p : memref<2x5x7x6xf32>) perm [0, 2, 3, 1]
  %y = memref.alloc() : memref<2x6x5x7xf32>
  nn.channel_shuffle ins(%x : memref<2x6x5x7xf32>) outs(%y : memref<2x6x5x7xf32>) groups 3
  %q = memref.alloc() : memref<2x6x1x5x7xf32>
  nn.reshape ins(%y : memref<2x6x5x7xf32>) outs(%q : memref<2x6x1x5x7xf32>)
  %r = memref.alloc() : memref<2x6x5x1x7xf32>
  nn.permute ins(%q : memref<2x6x1x5x7xf32>) outs(%r : memref<2x6x5x1x7xf32>) perm [0, 1, 3, 2, 4]
  %s = memref.alloc() : memref<2x2x5x7xf32>
  nn.slice ins(%x : memref<2x6x5x7xf32>) outs(%s : memref<2x2x5x7xf32>) axis 1 start 1 step 2
  %n = memref.alloc() : memref<2x6x5x7xf32>
  nn.layer_norm ins(%y : memref<2x6x5x7xf32>) outs(%n : memref<2x6x5x7xf32>) axes [1] eps 1.0e-06 weights dense<1.0> : tensor<6xf32> {layer = "ln"}
  nn.scale_shift ins(%n : memref<2x6x5x7xf32>) outs(%y : memref<2x6x5x7xf32>) activation relu weights dense<2.0> : tensor<6xf32> {layer = "bn"}
  %m = memref.alloc() : memref<2x1x5x7xf32>
  nn.mean ins(%y : memref<2x6x5x7xf32>) outs(%m : memref<2x1x5x7xf32>) axes [1]
  nn.softmax ins(%y : memref<2x6x5x7xf32>) outs(%n : memref<2x6x5x7xf32>) axis 1 log
  nn.softmax ins(%n : memref<2x6x5x7xf32>) outs(%y : memref<2x6x5x7xf32>)
  nn.concat ins(%y, %n : memref<2x6x5x7xf32>, memref<2x6x5x7xf32>) outs(%out : memref<2x12x5x7xf32>)
  func.return
}
