// RUN: patdnn-opt %s -p "lower-pattern-to-kernel{tile_y=4}" | filecheck %s --check-prefix=BEFORE
// RUN: patdnn-opt %s -p "lower-pattern-to-kernel{tile_y=4},load-elim" | filecheck %s --check-prefix=AFTER
// RUN: patdnn-opt %s -p "lower-pattern-to-kernel{tile_y=2},load-elim" | filecheck %s --check-prefix=TWO
// RUN: patdnn-opt %s -p "lower-pattern-to-kernel{tile_x=32 tile_y=4},load-elim" -t "c{isa=avx512}" | filecheck %s --check-prefix=C

// Pattern 010|111|000 over a 4-row tile: 4 taps x 4 rows = 16 loads before. Tap (0,1) of row r+1
// reads input row r+1, column 1 — the same vector as tap (1,1) of row r: after load-elim the
// column-1 loads are rows 0..4 (5), columns 0 and 2 rows 1..4 (4 + 4): 13 loads, 16 FMAs.
// BEFORE: kernel.pattern_body attributes {pattern = 0 : i64} {
// BEFORE-COUNT-16: kernel.load_tap
// BEFORE-NOT: kernel.load_tap
// BEFORE: kernel.pattern_body attributes {pattern = 1 : i64} {

// AFTER: kernel.pattern_body attributes {pattern = 0 : i64} {
// AFTER-NEXT: %[[A:.*]] = kernel.load_tap {row = 0 : i64, col = 1 : i64}
// AFTER-NEXT: kernel.fma %[[A]] {entry = 0 : i64, acc_row = 0 : i64}
// AFTER-NEXT: kernel.load_tap {row = 1 : i64, col = 0 : i64}
// AFTER-NEXT: kernel.fma
// AFTER-NEXT: %[[B:.*]] = kernel.load_tap {row = 1 : i64, col = 1 : i64}
// AFTER-NEXT: kernel.fma %[[B]] {entry = 2 : i64, acc_row = 0 : i64}
// AFTER-NEXT: kernel.load_tap {row = 1 : i64, col = 2 : i64}
// AFTER-NEXT: kernel.fma
// Row 1's centre-top tap reuses row 0's centre load (no load in between):
// AFTER-NEXT: kernel.fma %[[B]] {entry = 0 : i64, acc_row = 1 : i64}
// AFTER-COUNT-9: kernel.load_tap
// AFTER-NOT: kernel.load_tap
// AFTER: kernel.pattern_body attributes {pattern = 1 : i64} {
// Pattern 010|110|010 (a vertical line and one left tap): column 1 rows 0..5 (6 loads), column 0
// rows 1..4 (4): 10 of 16.
// AFTER-COUNT-10: kernel.load_tap
// AFTER-NOT: kernel.load_tap

// Two rows: pattern 0 keeps 7 of 8 loads, pattern 1 keeps 6 of 8.
// TWO: {pattern = 0 : i64}
// TWO-COUNT-7: kernel.load_tap
// TWO-NOT: kernel.load_tap
// TWO: {pattern = 1 : i64}
// TWO-COUNT-6: kernel.load_tap
// TWO-NOT: kernel.load_tap

// The C body has one vector load per remaining load_tap and vector (2 vectors of 16 columns per
// row: 30 columns), every FMA reads a shared load.
// Offsets: a tap-shifted plane is 10 rows x 32 floats; column c's plane starts at c * 320.
// C: /* pattern 0: 010|111|000 */
// C: const __m512 v0_0 = _mm512_load_ps(ip + 320);
// C: const __m512 v0_1 = _mm512_load_ps(ip + 336);
// C: acc0_0 = _mm512_fmadd_ps(v0_0, w0, acc0_0);
// C: const __m512 v2_0 = _mm512_load_ps(ip + 32);
// C-COUNT-23: _mm512_load_ps(ip +
// C-NOT: _mm512_load_ps(ip +
// C: /* pattern 1: 010|110|010 */

func.func @net(%x: memref<1x2x8x30xf32>, %y: memref<1x3x8x30xf32>) {
  pattern.conv2d ins(%x : memref<1x2x8x30xf32>) outs(%y : memref<1x3x8x30xf32>) stride [1, 1] padding [1, 1] activation none
      library #pattern.library<3x3, ["010|111|000", "010|110|010"]>
      kernels [[0, 1], [-1, -1], [1, 0]]
      weights dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0]> : tensor<16xf32> {layer = "conv1"}
  func.return
}
