// Direct convolution and a row-deterministic GEMM.
//
// Why our own kernels beside OpenBLAS: an im2col + GEMM convolution rounds an output differently
// depending on where its column falls in OpenBLAS's blocking, on the batch size and on the kernel
// OpenBLAS picks for the CPU (Haswell and SkylakeX differ), so identical patches could give
// different bits and max-pool ties broke differently from PyTorch. Here every output is one chain
// of fused multiply-adds in a fixed order; the AVX-512, AVX2 and portable paths perform the same
// chain, so they agree bit for bit. Direct convolution also skips the 9× im2col copy and the
// col2im pass that dominated the CIFAR ResNets' profiles.
#include "CKernels.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PR_HAVE_X86 1
#endif

enum { PR_BLOCK = 4, PR_POSITIONS = 3, PR_LANES = 8, PR_ROWS = 6, PR_COLUMNS = 16 };

int32_t pr_kernel_resolved_path(PRKernelPath path) {
#if PR_HAVE_X86
  if (path == PRKernelPathPortable) return 1;
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 1;
  if (path == PRKernelPathAutomatic && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) return 3;
  return 2;
#else
  (void)path;
#endif
  return 1;
}

// MARK: - Direct convolution

typedef struct {
  ptrdiff_t input, output;
  int32_t lanes;
  int32_t live;  // 0 for a repeat of the tile's last position (computed, not stored)
} Position;

// Positions q, q + 1, …, q + count − 1 of a plane cut into vectors of `width` lanes along each
// output row; past the last, repeats of it. One division per tile: the divisions per position
// cost about 5% of a 16-channel tile's time.
static void positions_of(const PRDirectConvolution *p, int32_t width, int32_t vectors, int32_t positions, int32_t q,
                         int32_t count, Position *out) {
  const int32_t last = positions - 1;
  int32_t first = q < last ? q : last;
  int32_t y = first / vectors, v = first - y * vectors;
  for (int32_t k = 0; k < count; k++, q++) {
    Position *at = out + k;
    at->live = q < positions;
    const int32_t x = v * width;
    at->input = (ptrdiff_t)y * p->inputRowPitch + x;
    at->output = (ptrdiff_t)y * p->outputRowPitch + (ptrdiff_t)x * p->outputColumnStride;
    const int32_t rest = p->outWidth - x;
    at->lanes = rest < width ? rest : width;
    if (q < last && ++v == vectors) {
      v = 0;
      y++;
    }
  }
}

static void store_lanes(const PRDirectConvolution *p, int32_t channel, const Position *at, const float *lanes) {
  float *dst = p->output + (ptrdiff_t)channel * p->outputChannelPitch + at->output;
  for (int32_t l = 0; l < at->lanes; l++) dst[l * p->outputColumnStride] = lanes[l];
}

// Rows of an output plane rounded up to whole pairs (the narrow-row AVX-512 tile's vectors).
static int32_t pair_rows(int32_t outHeight) { return (outHeight + 1) / 2 * 2; }

// The value a block's output chains start from: the channel's bias, or +0.
static float start_value(const PRDirectConvolution *p, int32_t block, int32_t j) {
  int32_t c = block * PR_BLOCK + j;
  return (p->bias && c < p->outChannels) ? p->bias[c] : 0.0f;
}

static void block_portable(const PRDirectConvolution *p, int32_t block) {
  const int32_t vectors = (p->outWidth + PR_LANES - 1) / PR_LANES, positions = p->outHeight * vectors;
  const float *wb = p->weights + (ptrdiff_t)block * p->taps * PR_BLOCK;
  float start[PR_BLOCK];
  for (int32_t j = 0; j < PR_BLOCK; j++) start[j] = start_value(p, block, j);
  for (int32_t q = 0; q < positions; q += PR_POSITIONS) {
    Position at[PR_POSITIONS];
    positions_of(p, PR_LANES, vectors, positions, q, PR_POSITIONS, at);
    float acc[PR_BLOCK][PR_POSITIONS][PR_LANES];
    for (int32_t j = 0; j < PR_BLOCK; j++)
      for (int32_t k = 0; k < PR_POSITIONS; k++)
        for (int32_t l = 0; l < PR_LANES; l++) acc[j][k][l] = start[j];
    for (int32_t t = 0; t < p->taps; t++) {
      const float *src = p->input + p->tapOffsets[t];
      const float *w = wb + (ptrdiff_t)t * PR_BLOCK;
      for (int32_t j = 0; j < PR_BLOCK; j++)
        for (int32_t k = 0; k < PR_POSITIONS; k++)
          for (int32_t l = 0; l < PR_LANES; l++) acc[j][k][l] = fmaf(w[j], src[at[k].input + l], acc[j][k][l]);
    }
    for (int32_t j = 0; j < PR_BLOCK; j++) {
      int32_t c = block * PR_BLOCK + j;
      if (c >= p->outChannels) break;
      for (int32_t k = 0; k < PR_POSITIONS; k++)
        if (at[k].live) store_lanes(p, c, &at[k], acc[j][k]);
    }
  }
}

#if PR_HAVE_X86
__attribute__((target("avx2,fma")))
static inline void store_vector(const PRDirectConvolution *p, int32_t channel, const Position *at, __m256 v) {
  if (!at->live) return;
  if (at->lanes == PR_LANES && p->outputColumnStride == 1) {
    _mm256_storeu_ps(p->output + (ptrdiff_t)channel * p->outputChannelPitch + at->output, v);
  } else {
    float lanes[PR_LANES];
    _mm256_storeu_ps(lanes, v);
    store_lanes(p, channel, at, lanes);
  }
}

__attribute__((target("avx2,fma")))
static void block_avx2(const PRDirectConvolution *p, int32_t block) {
  const int32_t vectors = (p->outWidth + PR_LANES - 1) / PR_LANES, positions = p->outHeight * vectors;
  const float *wb = p->weights + (ptrdiff_t)block * p->taps * PR_BLOCK;
  __m256 start[PR_BLOCK];
  for (int32_t j = 0; j < PR_BLOCK; j++) start[j] = _mm256_set1_ps(start_value(p, block, j));
  const int32_t *offsets = p->tapOffsets;
  for (int32_t q = 0; q < positions; q += PR_POSITIONS) {
    Position at[PR_POSITIONS];
    positions_of(p, PR_LANES, vectors, positions, q, PR_POSITIONS, at);
    const float *in0 = p->input + at[0].input, *in1 = p->input + at[1].input, *in2 = p->input + at[2].input;
    __m256 a00 = start[0], a01 = start[0], a02 = start[0];
    __m256 a10 = start[1], a11 = start[1], a12 = start[1];
    __m256 a20 = start[2], a21 = start[2], a22 = start[2];
    __m256 a30 = start[3], a31 = start[3], a32 = start[3];
    // Twelve accumulators, three input vectors and a broadcast take all sixteen registers. In C,
    // clang spilled one accumulator to the stack in this loop (a store and reload every tap, which
    // halved the speed), so the loop is written out; it is the same multiply-adds in the same order
    // as block_portable.
    if (p->taps > 0) {
      const float *w = wb;
      const int32_t *off = offsets, *end = offsets + p->taps;
      __asm__ volatile(
      "1:\n\t"
      "movslq (%[off]), %%rax\n\t"
      "vmovups (%[i0],%%rax,4), %%ymm12\n\t"
      "vmovups (%[i1],%%rax,4), %%ymm13\n\t"
      "vmovups (%[i2],%%rax,4), %%ymm14\n\t"
      "vbroadcastss 0(%[w]), %%ymm15\n\t"
      "vfmadd231ps %%ymm12, %%ymm15, %[a00]\n\t"
      "vfmadd231ps %%ymm13, %%ymm15, %[a01]\n\t"
      "vfmadd231ps %%ymm14, %%ymm15, %[a02]\n\t"
      "vbroadcastss 4(%[w]), %%ymm15\n\t"
      "vfmadd231ps %%ymm12, %%ymm15, %[a10]\n\t"
      "vfmadd231ps %%ymm13, %%ymm15, %[a11]\n\t"
      "vfmadd231ps %%ymm14, %%ymm15, %[a12]\n\t"
      "vbroadcastss 8(%[w]), %%ymm15\n\t"
      "vfmadd231ps %%ymm12, %%ymm15, %[a20]\n\t"
      "vfmadd231ps %%ymm13, %%ymm15, %[a21]\n\t"
      "vfmadd231ps %%ymm14, %%ymm15, %[a22]\n\t"
      "vbroadcastss 12(%[w]), %%ymm15\n\t"
      "vfmadd231ps %%ymm12, %%ymm15, %[a30]\n\t"
      "vfmadd231ps %%ymm13, %%ymm15, %[a31]\n\t"
      "vfmadd231ps %%ymm14, %%ymm15, %[a32]\n\t"
      "addq $4, %[off]\n\t"
      "addq $16, %[w]\n\t"
      "cmpq %[end], %[off]\n\t"
      "jne 1b\n\t"
      : [a00] "+x"(a00), [a01] "+x"(a01), [a02] "+x"(a02), [a10] "+x"(a10), [a11] "+x"(a11), [a12] "+x"(a12),
        [a20] "+x"(a20), [a21] "+x"(a21), [a22] "+x"(a22), [a30] "+x"(a30), [a31] "+x"(a31), [a32] "+x"(a32),
        [off] "+r"(off), [w] "+r"(w)
      : [i0] "r"(in0), [i1] "r"(in1), [i2] "r"(in2), [end] "r"(end)
      : "rax", "xmm12", "xmm13", "xmm14", "xmm15", "memory", "cc");
    }
    __m256 acc[PR_BLOCK][PR_POSITIONS] = {{a00, a01, a02}, {a10, a11, a12}, {a20, a21, a22}, {a30, a31, a32}};
    for (int32_t j = 0; j < PR_BLOCK; j++) {
      int32_t c = block * PR_BLOCK + j;
      if (c >= p->outChannels) break;
      for (int32_t k = 0; k < PR_POSITIONS; k++) store_vector(p, c, &at[k], acc[j][k]);
    }
  }
}
// A block with a single live channel (the input gradient of a grayscale image's first layer is
// the common case): eight positions of that channel instead of four channels of which three would
// be computed and dropped. The same multiply-adds, in the same order, as every other tile.
enum { PR_SINGLE_POSITIONS = 8 };

__attribute__((target("avx2,fma")))
static void single_channel_avx2(const PRDirectConvolution *p, int32_t block) {
  const int32_t vectors = (p->outWidth + PR_LANES - 1) / PR_LANES, positions = p->outHeight * vectors;
  const float *wb = p->weights + (ptrdiff_t)block * p->taps * PR_BLOCK;
  const __m256 start = _mm256_set1_ps(start_value(p, block, 0));
  const int32_t channel = block * PR_BLOCK;
  for (int32_t q = 0; q < positions; q += PR_SINGLE_POSITIONS) {
    Position at[PR_SINGLE_POSITIONS];
    const float *in[PR_SINGLE_POSITIONS];
    __m256 acc[PR_SINGLE_POSITIONS];
    positions_of(p, PR_LANES, vectors, positions, q, PR_SINGLE_POSITIONS, at);
    for (int32_t k = 0; k < PR_SINGLE_POSITIONS; k++) {
      in[k] = p->input + at[k].input;
      acc[k] = start;
    }
    for (int32_t t = 0; t < p->taps; t++) {
      const ptrdiff_t o = p->tapOffsets[t];
      const __m256 w = _mm256_broadcast_ss(wb + (ptrdiff_t)t * PR_BLOCK);
      for (int32_t k = 0; k < PR_SINGLE_POSITIONS; k++) acc[k] = _mm256_fmadd_ps(w, _mm256_loadu_ps(in[k] + o), acc[k]);
    }
    for (int32_t k = 0; k < PR_SINGLE_POSITIONS; k++) store_vector(p, channel, &at[k], acc[k]);
  }
}

// AVX-512: four channels × six 16-lane positions, 24 of the 32 vector registers as accumulators.
// The wider tile reads each loaded input vector four times and each broadcast weight six times.
// It is used for rows wider than 8 outputs (block_avx512_pairs takes narrower ones). Same
// multiply-adds, same order.
enum { PR_WIDE_LANES = 16, PR_WIDE_POSITIONS = 6 };

__attribute__((target("avx512f,avx2,fma")))
static inline void store_wide(const PRDirectConvolution *p, int32_t channel, const Position *at, __m512 v) {
  if (!at->live) return;
  float *dst = p->output + (ptrdiff_t)channel * p->outputChannelPitch + at->output;
  if (p->outputColumnStride == 1) {
    if (at->lanes == PR_WIDE_LANES) _mm512_storeu_ps(dst, v);
    else _mm512_mask_storeu_ps(dst, (__mmask16)((1u << at->lanes) - 1), v);
  } else {
    float lanes[PR_WIDE_LANES];
    _mm512_storeu_ps(lanes, v);
    store_lanes(p, channel, at, lanes);
  }
}

__attribute__((target("avx512f,avx2,fma")))
static void block_avx512(const PRDirectConvolution *p, int32_t block) {
  const int32_t vectors = (p->outWidth + PR_WIDE_LANES - 1) / PR_WIDE_LANES, positions = p->outHeight * vectors;
  const float *wb = p->weights + (ptrdiff_t)block * p->taps * PR_BLOCK;
  __m512 start[PR_BLOCK];
  for (int32_t j = 0; j < PR_BLOCK; j++) start[j] = _mm512_set1_ps(start_value(p, block, j));
  for (int32_t q = 0; q < positions; q += PR_WIDE_POSITIONS) {
    Position at[PR_WIDE_POSITIONS];
    positions_of(p, PR_WIDE_LANES, vectors, positions, q, PR_WIDE_POSITIONS, at);
    const float *in0 = p->input + at[0].input, *in1 = p->input + at[1].input, *in2 = p->input + at[2].input;
    const float *in3 = p->input + at[3].input, *in4 = p->input + at[4].input, *in5 = p->input + at[5].input;
    __m512 a00 = start[0], a01 = start[0], a02 = start[0], a03 = start[0], a04 = start[0], a05 = start[0];
    __m512 a10 = start[1], a11 = start[1], a12 = start[1], a13 = start[1], a14 = start[1], a15 = start[1];
    __m512 a20 = start[2], a21 = start[2], a22 = start[2], a23 = start[2], a24 = start[2], a25 = start[2];
    __m512 a30 = start[3], a31 = start[3], a32 = start[3], a33 = start[3], a34 = start[3], a35 = start[3];
    // Written out for the reason block_avx2 is: all 24 accumulators must stay in registers.
    if (p->taps > 0) {
      const float *w = wb;
      const int32_t *off = p->tapOffsets, *end = p->tapOffsets + p->taps;
      __asm__ volatile(
      "1:\n\t"
      "movslq (%[off]), %%rax\n\t"
      "vmovups (%[i0],%%rax,4), %%zmm26\n\t"
      "vmovups (%[i1],%%rax,4), %%zmm27\n\t"
      "vmovups (%[i2],%%rax,4), %%zmm28\n\t"
      "vmovups (%[i3],%%rax,4), %%zmm29\n\t"
      "vmovups (%[i4],%%rax,4), %%zmm30\n\t"
      "vmovups (%[i5],%%rax,4), %%zmm31\n\t"
      "vbroadcastss 0(%[w]), %%zmm25\n\t"
      "vfmadd231ps %%zmm26, %%zmm25, %[a00]\n\t"
      "vfmadd231ps %%zmm27, %%zmm25, %[a01]\n\t"
      "vfmadd231ps %%zmm28, %%zmm25, %[a02]\n\t"
      "vfmadd231ps %%zmm29, %%zmm25, %[a03]\n\t"
      "vfmadd231ps %%zmm30, %%zmm25, %[a04]\n\t"
      "vfmadd231ps %%zmm31, %%zmm25, %[a05]\n\t"
      "vbroadcastss 4(%[w]), %%zmm25\n\t"
      "vfmadd231ps %%zmm26, %%zmm25, %[a10]\n\t"
      "vfmadd231ps %%zmm27, %%zmm25, %[a11]\n\t"
      "vfmadd231ps %%zmm28, %%zmm25, %[a12]\n\t"
      "vfmadd231ps %%zmm29, %%zmm25, %[a13]\n\t"
      "vfmadd231ps %%zmm30, %%zmm25, %[a14]\n\t"
      "vfmadd231ps %%zmm31, %%zmm25, %[a15]\n\t"
      "vbroadcastss 8(%[w]), %%zmm25\n\t"
      "vfmadd231ps %%zmm26, %%zmm25, %[a20]\n\t"
      "vfmadd231ps %%zmm27, %%zmm25, %[a21]\n\t"
      "vfmadd231ps %%zmm28, %%zmm25, %[a22]\n\t"
      "vfmadd231ps %%zmm29, %%zmm25, %[a23]\n\t"
      "vfmadd231ps %%zmm30, %%zmm25, %[a24]\n\t"
      "vfmadd231ps %%zmm31, %%zmm25, %[a25]\n\t"
      "vbroadcastss 12(%[w]), %%zmm25\n\t"
      "vfmadd231ps %%zmm26, %%zmm25, %[a30]\n\t"
      "vfmadd231ps %%zmm27, %%zmm25, %[a31]\n\t"
      "vfmadd231ps %%zmm28, %%zmm25, %[a32]\n\t"
      "vfmadd231ps %%zmm29, %%zmm25, %[a33]\n\t"
      "vfmadd231ps %%zmm30, %%zmm25, %[a34]\n\t"
      "vfmadd231ps %%zmm31, %%zmm25, %[a35]\n\t"
      "addq $4, %[off]\n\t"
      "addq $16, %[w]\n\t"
      "cmpq %[end], %[off]\n\t"
      "jne 1b\n\t"
      : [a00] "+v"(a00), [a01] "+v"(a01), [a02] "+v"(a02), [a03] "+v"(a03), [a04] "+v"(a04), [a05] "+v"(a05),
        [a10] "+v"(a10), [a11] "+v"(a11), [a12] "+v"(a12), [a13] "+v"(a13), [a14] "+v"(a14), [a15] "+v"(a15),
        [a20] "+v"(a20), [a21] "+v"(a21), [a22] "+v"(a22), [a23] "+v"(a23), [a24] "+v"(a24), [a25] "+v"(a25),
        [a30] "+v"(a30), [a31] "+v"(a31), [a32] "+v"(a32), [a33] "+v"(a33), [a34] "+v"(a34), [a35] "+v"(a35),
        [off] "+r"(off), [w] "+r"(w)
      : [i0] "r"(in0), [i1] "r"(in1), [i2] "r"(in2), [i3] "r"(in3), [i4] "r"(in4), [i5] "r"(in5), [end] "r"(end)
      : "rax", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31", "memory", "cc");
    }
    __m512 acc[PR_BLOCK][PR_WIDE_POSITIONS] = {
      {a00, a01, a02, a03, a04, a05}, {a10, a11, a12, a13, a14, a15},
      {a20, a21, a22, a23, a24, a25}, {a30, a31, a32, a33, a34, a35}};
    for (int32_t j = 0; j < PR_BLOCK; j++) {
      int32_t c = block * PR_BLOCK + j;
      if (c >= p->outChannels) break;
      for (int32_t k = 0; k < PR_WIDE_POSITIONS; k++) store_wide(p, c, &at[k], acc[j][k]);
    }
  }
}

// AVX-512 for rows of at most 8 outputs (a ResNet's last stage, 8×8): each 16-lane position holds
// two output rows, row y in lanes 0–7 and row y + 1 in lanes 8–15. Assembling such a vector from
// two 8-float loads costs a shuffle on the port the FMAs need (measured: 72–78 GFLOP/s on one
// core against 110–120 for the wide tile), so the call first copies, for every tap, the rows it
// reads into 8-float rows of their own (`scratch`, tap-major): there a pair of rows is one aligned
// 16-float load, and a tap's vectors for a tile are consecutive. Columns past the output width
// and a last odd row are zeros (computed, never stored). Four channels × four positions: an 8×8
// plane is exactly four positions. Same multiply-adds in the same order as every other tile.
enum { PR_PAIR_POSITIONS = 4 };
typedef struct {
  ptrdiff_t output;
  int32_t upper;  // whether lanes 8–15 are a live row
  int32_t live;
  int32_t pair;   // the row pair this position reads
} RowPair;

static void row_pair_of(const PRDirectConvolution *p, int32_t pairs, int32_t q, RowPair *out) {
  out->live = q < pairs;
  if (!out->live) q = pairs - 1;
  int32_t y = 2 * q;
  out->pair = q;
  out->upper = y + 1 < p->outHeight;
  out->output = (ptrdiff_t)y * p->outputRowPitch;
}

// scratch[t][r][x] = input[tapOffsets[t] + r·inputRowPitch + x] for r < outHeight, x < outWidth;
// zeros elsewhere (8 floats per row). One masked 8-float move per row: a scalar copy took half as
// long as the 64-channel 8×8 convolution it feeds.
__attribute__((target("avx512f,avx512vl,avx2,fma")))
static void copy_pair_rows(const PRDirectConvolution *p) {
  const int32_t rows = pair_rows(p->outHeight), h = p->outHeight;
  const __mmask8 columns = (__mmask8)((1u << p->outWidth) - 1);
  const ptrdiff_t pitch = p->inputRowPitch;
  float *dst = p->scratch;
  for (int32_t t = 0; t < p->taps; t++) {
    const float *src = p->input + p->tapOffsets[t];
    for (int32_t r = 0; r < h; r++, dst += PR_LANES)
      _mm256_storeu_ps(dst, _mm256_maskz_loadu_ps(columns, src + (ptrdiff_t)r * pitch));
    for (int32_t r = h; r < rows; r++, dst += PR_LANES) _mm256_storeu_ps(dst, _mm256_setzero_ps());
  }
}

__attribute__((target("avx512f,avx2,fma")))
static inline void store_pair(const PRDirectConvolution *p, int32_t channel, const RowPair *at, __m512 v) {
  if (!at->live) return;
  float *dst = p->output + (ptrdiff_t)channel * p->outputChannelPitch + at->output;
  const int32_t w = p->outWidth;
  if (at->upper && w == PR_LANES && p->outputColumnStride == 1 && p->outputRowPitch == PR_LANES) {
    _mm512_storeu_ps(dst, v);
    return;
  }
  float lanes[PR_WIDE_LANES];
  _mm512_storeu_ps(lanes, v);
  const ptrdiff_t cs = p->outputColumnStride;
  for (int32_t l = 0; l < w; l++) dst[l * cs] = lanes[l];
  if (at->upper)
    for (int32_t l = 0; l < w; l++) dst[p->outputRowPitch + l * cs] = lanes[PR_LANES + l];
}

__attribute__((target("avx512f,avx2,fma")))
static void block_avx512_pairs(const PRDirectConvolution *p, int32_t block) {
  const int32_t pairs = (p->outHeight + 1) / 2;
  const ptrdiff_t tapStride = (ptrdiff_t)pair_rows(p->outHeight) * PR_LANES;
  const float *wb = p->weights + (ptrdiff_t)block * p->taps * PR_BLOCK;
  __m512 start[PR_BLOCK];
  for (int32_t j = 0; j < PR_BLOCK; j++) start[j] = _mm512_set1_ps(start_value(p, block, j));
  for (int32_t q = 0; q < pairs; q += PR_PAIR_POSITIONS) {
    RowPair at[PR_PAIR_POSITIONS];
    const float *in[PR_PAIR_POSITIONS];
    for (int32_t k = 0; k < PR_PAIR_POSITIONS; k++) {
      row_pair_of(p, pairs, q + k, &at[k]);
      in[k] = p->scratch + (ptrdiff_t)at[k].pair * PR_WIDE_LANES;
    }
    __m512 acc[PR_BLOCK][PR_PAIR_POSITIONS];
    for (int32_t j = 0; j < PR_BLOCK; j++)
      for (int32_t k = 0; k < PR_PAIR_POSITIONS; k++) acc[j][k] = start[j];
    for (int32_t t = 0; t < p->taps; t++) {
      const ptrdiff_t o = (ptrdiff_t)t * tapStride;
      __m512 x[PR_PAIR_POSITIONS];
      for (int32_t k = 0; k < PR_PAIR_POSITIONS; k++) x[k] = _mm512_loadu_ps(in[k] + o);
      const float *w = wb + (ptrdiff_t)t * PR_BLOCK;
      for (int32_t j = 0; j < PR_BLOCK; j++) {
        const __m512 v = _mm512_set1_ps(w[j]);
        for (int32_t k = 0; k < PR_PAIR_POSITIONS; k++) acc[j][k] = _mm512_fmadd_ps(v, x[k], acc[j][k]);
      }
    }
    for (int32_t j = 0; j < PR_BLOCK; j++) {
      int32_t c = block * PR_BLOCK + j;
      if (c >= p->outChannels) break;
      for (int32_t k = 0; k < PR_PAIR_POSITIONS; k++) store_pair(p, c, &at[k], acc[j][k]);
    }
  }
}
#endif

// The rectifier of a block's channels (PRDirectConvolution.rectify): the operations of the
// separate sum and ReLU passes, on each value, so the same bits; run on the 4 channel planes a
// block has just written, which are still in L1 or L2, instead of a later pass over memory.
static void rectify_run(float *restrict out, const float *restrict add, uint8_t *restrict mask, int32_t n) {
  for (int32_t x = 0; x < n; x++) {
    const float v = add ? out[x] + add[x] : out[x];
    const int32_t positive = v > 0.0f;
    out[x] = positive ? v : 0.0f;
    if (mask) mask[x] = (uint8_t)positive;
  }
}

#if PR_HAVE_X86
__attribute__((target("avx512f")))
static void rectify_run_avx512(float *out, const float *add, uint8_t *mask, int32_t n) {
  const __m512 zero = _mm512_setzero_ps();
  const __m512i one = _mm512_set1_epi32(1);
  for (int32_t x = 0; x < n; x += 16) {
    const __mmask16 live = n - x >= 16 ? 0xffff : (__mmask16)((1u << (n - x)) - 1);
    __m512 v = _mm512_maskz_loadu_ps(live, out + x);
    if (add) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(live, add + x));
    const __mmask16 positive = _mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ);
    _mm512_mask_storeu_ps(out + x, live, _mm512_maskz_mov_ps(positive, v));
    if (!mask) continue;
    const __m512i bits = _mm512_maskz_mov_epi32(positive, one);
    if (live == 0xffff) _mm_storeu_si128((__m128i *)(mask + x), _mm512_cvtepi32_epi8(bits));
    else _mm512_mask_cvtepi32_storeu_epi8(mask + x, live, bits);
  }
}
#endif

// A block's planes are one run of floats (rectify asks for a forward pass's NCHW output).
static void rectify_block(const PRDirectConvolution *p, int32_t block, int32_t resolved) {
  const int32_t first = block * PR_BLOCK, end = first + PR_BLOCK < p->outChannels ? first + PR_BLOCK : p->outChannels;
  const ptrdiff_t at = (ptrdiff_t)first * p->outputChannelPitch;
  const int32_t count = (end - first) * (int32_t)p->outputChannelPitch;
  const float *add = p->adding ? p->adding + at : NULL;
  uint8_t *mask = p->mask ? p->mask + at : NULL;
#if PR_HAVE_X86
  if (resolved == 3) {
    rectify_run_avx512(p->output + at, add, mask, count);
    return;
  }
#endif
  (void)resolved;
  rectify_run(p->output + at, add, mask, count);
}

ptrdiff_t pr_direct_convolution_scratch(int32_t taps, int32_t outHeight, int32_t outWidth, PRKernelPath path) {
  if (pr_kernel_resolved_path(path) != 3 || outWidth > PR_LANES || outHeight <= 0 || outWidth <= 0) return 0;
  return (ptrdiff_t)taps * pair_rows(outHeight) * PR_LANES;
}

void pr_direct_convolution(const PRDirectConvolution *plan, int32_t firstBlock, int32_t blockCount) {
  if (plan->outHeight <= 0 || plan->outWidth <= 0) return;
  int32_t resolved = pr_kernel_resolved_path(plan->path);
#if PR_HAVE_X86
  const int32_t pairs = resolved == 3 && plan->outWidth <= PR_LANES;
  if (pairs) copy_pair_rows(plan);
#endif
  for (int32_t b = firstBlock; b < firstBlock + blockCount; b++) {
#if PR_HAVE_X86
    if (resolved >= 2) {
      if (plan->outChannels - b * PR_BLOCK == 1) single_channel_avx2(plan, b);
      else if (resolved == 3) pairs ? block_avx512_pairs(plan, b) : block_avx512(plan, b);
      else block_avx2(plan, b);
    } else {
      block_portable(plan, b);
    }
#else
    block_portable(plan, b);
#endif
    if (plan->rectify) rectify_block(plan, b, resolved);
  }
}

// Row copies for the stride-1 planes: AVX-512 moves a row of up to 16 floats in one masked pair,
// where libc calls per row cost as much as the data (16×32×32 from memory into a reused buffer:
// 4.4 → 3.5–3.8 µs per sample). With `zeroPitch`, each padded row of that many floats is zeroed first (in
// L1, just before the copy lands in it). Values move unchanged, so any copy gives the same planes.
#if PR_HAVE_X86
__attribute__((target("avx512f")))
static void copy_rows_avx512(float *dst, ptrdiff_t dstPitch, const float *src, int32_t rows, int32_t width,
                             int32_t left, int32_t zeroPitch) {
  const __mmask16 tail = (__mmask16)((1u << (width % 16)) - 1), zeroTail = (__mmask16)((1u << (zeroPitch % 16)) - 1);
  const __m512 zero = _mm512_setzero_ps();
  for (int32_t y = 0; y < rows; y++, dst += dstPitch, src += width) {
    if (zeroPitch) {
      float *row = dst - left;
      int32_t x = 0;
      for (; x + 16 <= zeroPitch; x += 16) _mm512_storeu_ps(row + x, zero);
      if (zeroTail) _mm512_mask_storeu_ps(row + x, zeroTail, zero);
    }
    int32_t x = 0;
    for (; x + 16 <= width; x += 16) _mm512_storeu_ps(dst + x, _mm512_loadu_ps(src + x));
    if (tail) _mm512_mask_storeu_ps(dst + x, tail, _mm512_maskz_loadu_ps(tail, src + x));
  }
}
#endif

// `rows` rows of `width` floats from `src` to `dst`, `dstPitch` apart; with `zeroPitch` > 0 the
// destination rows' `zeroPitch` floats starting `left` before each are zeroed first.
static void copy_rows(float *dst, ptrdiff_t dstPitch, const float *src, int32_t rows, int32_t width, int32_t left,
                      int32_t zeroPitch) {
#if PR_HAVE_X86
  if (pr_kernel_resolved_path(PRKernelPathAutomatic) == 3) {
    copy_rows_avx512(dst, dstPitch, src, rows, width, left, zeroPitch);
    return;
  }
#endif
  for (int32_t y = 0; y < rows; y++) {
    float *row = dst + (ptrdiff_t)y * dstPitch;
    if (zeroPitch) memset(row - left, 0, (size_t)zeroPitch * sizeof(float));
    memcpy(row, src + (ptrdiff_t)y * width, (size_t)width * sizeof(float));
  }
}

#if PR_HAVE_X86
// The stride-2 planes with AVX-512: each row is read once, 32 floats at a time (masked past its
// end; masked lanes neither read nor fault), and two permutations deal its even and odd columns
// to their phases. A call per row and phase, with the strided scalar copy, cost 1.2 ns per float
// (32×16×16 in 10–14 µs).
__attribute__((target("avx512f")))
static void prepare_stride2_avx512(const float *src, int32_t channels, int32_t height, int32_t width, int32_t top,
                                   int32_t left, ptrdiff_t plane, ptrdiff_t pw, float *dst) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  // Column 2i + p lands in phase (left + p) mod 2 at place (left + p)/2 + i.
  const ptrdiff_t evenColumn = (ptrdiff_t)(left % 2) * plane + left / 2;
  const ptrdiff_t oddColumn = (ptrdiff_t)((left + 1) % 2) * plane + (left + 1) / 2;
  for (int32_t c = 0; c < channels; c++) {
    float *d = dst + (ptrdiff_t)c * 4 * plane;
    for (int32_t y = 0; y < height; y++) {
      const int32_t py = top + y;
      float *base = d + (ptrdiff_t)(py % 2) * 2 * plane + (ptrdiff_t)(py / 2) * pw;
      const float *row = src + ((ptrdiff_t)c * height + y) * width;
      for (int32_t i = 0; 2 * i < width; i += 16) {
        const int32_t rest = width - 2 * i;
        const __mmask16 low = rest >= 16 ? 0xffff : (__mmask16)((1u << rest) - 1);
        const __mmask16 high = rest >= 32 ? 0xffff : rest > 16 ? (__mmask16)((1u << (rest - 16)) - 1) : 0;
        const __m512 a = _mm512_maskz_loadu_ps(low, row + 2 * i), b = _mm512_maskz_loadu_ps(high, row + 2 * i + 16);
        const int32_t evens = (rest + 1) / 2 < 16 ? (rest + 1) / 2 : 16, odds = rest / 2 < 16 ? rest / 2 : 16;
        _mm512_mask_storeu_ps(base + evenColumn + i, (__mmask16)((1u << evens) - 1), _mm512_permutex2var_ps(a, even, b));
        if (odds)
          _mm512_mask_storeu_ps(base + oddColumn + i, (__mmask16)((1u << odds) - 1), _mm512_permutex2var_ps(a, odd, b));
      }
    }
  }
}
#endif

void pr_prepare_planes(const float *src, int32_t channels, int32_t height, int32_t width, int32_t top,
                       int32_t left, int32_t paddedHeight, int32_t paddedWidth, int32_t stride,
                       float *dst, ptrdiff_t dstCount, int32_t zerosInPlace) {
  const ptrdiff_t ph = (paddedHeight + stride - 1) / stride, pw = (paddedWidth + stride - 1) / stride;
  const ptrdiff_t plane = ph * pw, perChannel = plane * stride * stride;
  if (zerosInPlace && stride == 1) {
    // The padding of a reused buffer is still zero: only the rows move (the many small zero
    // writes around them cost as much as the copy).
    for (int32_t c = 0; c < channels; c++)
      copy_rows(dst + c * perChannel + (ptrdiff_t)top * pw + left, pw, src + (ptrdiff_t)c * height * width, height, width,
                left, 0);
    return;
  }
  if (stride == 1) {
    // Each float written once or, for a row's padding, just before its copy: only the padding
    // rows are zeroed wholesale (zeroing everything first wrote the interior twice).
    for (int32_t c = 0; c < channels; c++) {
      const float *s = src + (ptrdiff_t)c * height * width;
      float *d = dst + c * perChannel;
      memset(d, 0, (size_t)(top * pw) * sizeof(float));
      copy_rows(d + (ptrdiff_t)top * pw + left, pw, s, height, width, left, (int32_t)pw);
      memset(d + (ptrdiff_t)(top + height) * pw, 0, (size_t)((ph - top - height) * pw) * sizeof(float));
    }
    memset(dst + channels * perChannel, 0, (size_t)(dstCount - channels * perChannel) * sizeof(float));
    return;
  }
  if (!zerosInPlace) memset(dst, 0, (size_t)dstCount * sizeof(float));
#if PR_HAVE_X86
  if (stride == 2 && pr_kernel_resolved_path(PRKernelPathAutomatic) == 3) {
    prepare_stride2_avx512(src, channels, height, width, top, left, plane, pw, dst);
    return;
  }
#endif
  for (int32_t c = 0; c < channels; c++) {
    const float *s = src + (ptrdiff_t)c * height * width;
    float *d = dst + c * perChannel;
    // Column phase by phase: source columns x ≡ rx − left (mod stride) land in phase rx at
    // consecutive places. The phase's first column and place are the same for every row, and
    // the row phase advances by counting, so no row divides (two divisions per row and phase
    // were 40% of this copy's samples in the resnet20 inference profile).
    for (int32_t rx = 0; rx < stride; rx++) {
      const int32_t x0 = ((rx - left) % stride + stride) % stride;
      if (x0 >= width) continue;
      const int32_t count = (width - x0 + stride - 1) / stride;
      const ptrdiff_t column = (ptrdiff_t)rx * plane + (left + x0) / stride;
      int32_t ry = top % stride;
      ptrdiff_t qy = top / stride;
      for (int32_t y = 0; y < height; y++) {
        float *out = d + (ptrdiff_t)ry * stride * plane + qy * pw + column;
        const float *in = s + (ptrdiff_t)y * width + x0;
        for (int32_t i = 0; i < count; i++) out[i] = in[(ptrdiff_t)i * stride];
        if (++ry == stride) {
          ry = 0;
          qy++;
        }
      }
    }
  }
}

// MARK: - Row-deterministic GEMM

// Every path computes C[m, n] = fma(A[m, K−1], B[K−1, n], … fma(A[m, 0], B[0, n], bias[n])): tile
// shapes, packing and instruction sets change who computes an output and from where it reads
// its operands, never the chain. B is first copied, one panel of columns at a time, into a
// contiguous K × panel buffer: read in place, a panel's K rows lie `ldb` floats apart, and for
// ldb = 1024 they fall into a handful of cache sets, so every k missed L1 and L2 (measured: the
// unpacked 6 × 16 AVX2 tile ran 1024³ at 30 GFLOP/s on two cores against OpenBLAS's 133–158).

// Copies columns n0 ..< n0 + columns of op(B) (B is [K, N], or [N, K] when transposed) into
// panel[kk · pitch + j].
enum { PR_WIDE_ROWS = PRRowGEMMTileRows, PR_WIDE_COLUMNS = PRRowGEMMPanelColumns };

static void pack_panel(const float *b, ptrdiff_t ldb, int32_t transposed, int32_t k, int32_t n0, int32_t columns,
                       int32_t pitch, float *panel) {
  if (!transposed) {
    for (int32_t kk = 0; kk < k; kk++)
      memcpy(panel + (ptrdiff_t)kk * pitch, b + (ptrdiff_t)kk * ldb + n0, (size_t)columns * sizeof(float));
    return;
  }
  for (int32_t j = 0; j < columns; j++) {
    const float *row = b + (ptrdiff_t)(n0 + j) * ldb;
    for (int32_t kk = 0; kk < k; kk++) panel[(ptrdiff_t)kk * pitch + j] = row[kk];
  }
}

static void gemm_tile_portable(int32_t rows, int32_t columns, int32_t k, const float *a[PR_ROWS],
                               const float *b, ptrdiff_t ldb, const float *bias, float *c[PR_ROWS]) {
  float acc[PR_ROWS][PR_COLUMNS];
  for (int32_t i = 0; i < PR_ROWS; i++)
    for (int32_t j = 0; j < PR_COLUMNS; j++) acc[i][j] = (bias && j < columns) ? bias[j] : 0.0f;
  for (int32_t kk = 0; kk < k; kk++) {
    const float *row = b + (ptrdiff_t)kk * ldb;
    for (int32_t i = 0; i < PR_ROWS; i++) {
      float v = a[i][kk];
      for (int32_t j = 0; j < columns; j++) acc[i][j] = fmaf(v, row[j], acc[i][j]);
    }
  }
  for (int32_t i = 0; i < rows; i++) memcpy(c[i], acc[i], (size_t)columns * sizeof(float));
}

#if PR_HAVE_X86
__attribute__((target("avx2,fma")))
static void gemm_tile_avx2(int32_t rows, int32_t columns, int32_t k, const float *a[PR_ROWS],
                           const float *b, ptrdiff_t ldb, const float *bias, float *c[PR_ROWS]) {
  if (columns < PR_COLUMNS) {
    gemm_tile_portable(rows, columns, k, a, b, ldb, bias, c);
    return;
  }
  __m256 s0 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
  __m256 s1 = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
  __m256 c00 = s0, c01 = s1, c10 = s0, c11 = s1, c20 = s0, c21 = s1;
  __m256 c30 = s0, c31 = s1, c40 = s0, c41 = s1, c50 = s0, c51 = s1;
  const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
  for (int32_t kk = 0; kk < k; kk++) {
    const float *row = b + (ptrdiff_t)kk * ldb;
    __m256 b0 = _mm256_loadu_ps(row), b1 = _mm256_loadu_ps(row + 8), v;
    v = _mm256_broadcast_ss(a0 + kk); c00 = _mm256_fmadd_ps(v, b0, c00); c01 = _mm256_fmadd_ps(v, b1, c01);
    v = _mm256_broadcast_ss(a1 + kk); c10 = _mm256_fmadd_ps(v, b0, c10); c11 = _mm256_fmadd_ps(v, b1, c11);
    v = _mm256_broadcast_ss(a2 + kk); c20 = _mm256_fmadd_ps(v, b0, c20); c21 = _mm256_fmadd_ps(v, b1, c21);
    v = _mm256_broadcast_ss(a3 + kk); c30 = _mm256_fmadd_ps(v, b0, c30); c31 = _mm256_fmadd_ps(v, b1, c31);
    v = _mm256_broadcast_ss(a4 + kk); c40 = _mm256_fmadd_ps(v, b0, c40); c41 = _mm256_fmadd_ps(v, b1, c41);
    v = _mm256_broadcast_ss(a5 + kk); c50 = _mm256_fmadd_ps(v, b0, c50); c51 = _mm256_fmadd_ps(v, b1, c51);
  }
  __m256 out[PR_ROWS][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (int32_t i = 0; i < rows; i++) {
    _mm256_storeu_ps(c[i], out[i][0]);
    _mm256_storeu_ps(c[i] + 8, out[i][1]);
  }
}

// AVX-512: 12 rows × 32 columns, 24 accumulators; per k two panel loads and twelve broadcasts
// feed 24 multiply-adds (the 6 × 16 AVX2 tile feeds 12 from eight loads). Partial panels use
// masked loads and stores, so no column is special.

__attribute__((target("avx512f,avx2,fma")))
static void gemm_tile_avx512(int32_t rows, int32_t columns, int32_t k, const float *a[PR_WIDE_ROWS],
                             const float *b, ptrdiff_t ldb, const float *bias, float *c[PR_WIDE_ROWS]) {
  const __mmask16 m0 = columns >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << columns) - 1);
  const __mmask16 m1 = columns >= 32 ? (__mmask16)0xFFFF : columns <= 16 ? 0 : (__mmask16)((1u << (columns - 16)) - 1);
  const __m512 s0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
  const __m512 s1 = bias ? _mm512_maskz_loadu_ps(m1, bias + 16) : _mm512_setzero_ps();
  __m512 c00 = s0, c01 = s1, c10 = s0, c11 = s1, c20 = s0, c21 = s1, c30 = s0, c31 = s1;
  __m512 c40 = s0, c41 = s1, c50 = s0, c51 = s1, c60 = s0, c61 = s1, c70 = s0, c71 = s1;
  __m512 c80 = s0, c81 = s1, c90 = s0, c91 = s1, ca0 = s0, ca1 = s1, cb0 = s0, cb1 = s1;
  const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
  const float *a6 = a[6], *a7 = a[7], *a8 = a[8], *a9 = a[9], *aa = a[10], *ab = a[11];
  // Written out, as in the AVX2 tile: with arrays of accumulators the compiler spilled them.
  for (int32_t kk = 0; kk < k; kk++) {
    const float *row = b + (ptrdiff_t)kk * ldb;
    const __m512 b0 = _mm512_maskz_loadu_ps(m0, row), b1 = _mm512_maskz_loadu_ps(m1, row + 16);
    __m512 v;
    v = _mm512_set1_ps(a0[kk]); c00 = _mm512_fmadd_ps(v, b0, c00); c01 = _mm512_fmadd_ps(v, b1, c01);
    v = _mm512_set1_ps(a1[kk]); c10 = _mm512_fmadd_ps(v, b0, c10); c11 = _mm512_fmadd_ps(v, b1, c11);
    v = _mm512_set1_ps(a2[kk]); c20 = _mm512_fmadd_ps(v, b0, c20); c21 = _mm512_fmadd_ps(v, b1, c21);
    v = _mm512_set1_ps(a3[kk]); c30 = _mm512_fmadd_ps(v, b0, c30); c31 = _mm512_fmadd_ps(v, b1, c31);
    v = _mm512_set1_ps(a4[kk]); c40 = _mm512_fmadd_ps(v, b0, c40); c41 = _mm512_fmadd_ps(v, b1, c41);
    v = _mm512_set1_ps(a5[kk]); c50 = _mm512_fmadd_ps(v, b0, c50); c51 = _mm512_fmadd_ps(v, b1, c51);
    v = _mm512_set1_ps(a6[kk]); c60 = _mm512_fmadd_ps(v, b0, c60); c61 = _mm512_fmadd_ps(v, b1, c61);
    v = _mm512_set1_ps(a7[kk]); c70 = _mm512_fmadd_ps(v, b0, c70); c71 = _mm512_fmadd_ps(v, b1, c71);
    v = _mm512_set1_ps(a8[kk]); c80 = _mm512_fmadd_ps(v, b0, c80); c81 = _mm512_fmadd_ps(v, b1, c81);
    v = _mm512_set1_ps(a9[kk]); c90 = _mm512_fmadd_ps(v, b0, c90); c91 = _mm512_fmadd_ps(v, b1, c91);
    v = _mm512_set1_ps(aa[kk]); ca0 = _mm512_fmadd_ps(v, b0, ca0); ca1 = _mm512_fmadd_ps(v, b1, ca1);
    v = _mm512_set1_ps(ab[kk]); cb0 = _mm512_fmadd_ps(v, b0, cb0); cb1 = _mm512_fmadd_ps(v, b1, cb1);
  }
  const __m512 out[PR_WIDE_ROWS][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51},
                                       {c60, c61}, {c70, c71}, {c80, c81}, {c90, c91}, {ca0, ca1}, {cb0, cb1}};
  for (int32_t i = 0; i < rows; i++) {
    _mm512_mask_storeu_ps(c[i], m0, out[i][0]);
    _mm512_mask_storeu_ps(c[i] + 16, m1, out[i][1]);
  }
}
#endif

void pr_row_gemm(int32_t firstRow, int32_t rowCount, int32_t n, int32_t k, const float *a, ptrdiff_t lda,
                 const float *b, ptrdiff_t ldb, int32_t transposeB, const float *bias, float *c, ptrdiff_t ldc,
                 float *panel, PRKernelPath path) {
  const int32_t resolved = pr_kernel_resolved_path(path);
  const int32_t tileRows = resolved == 3 ? PR_WIDE_ROWS : PR_ROWS;
  const int32_t tileColumns = resolved == 3 ? PR_WIDE_COLUMNS : PR_COLUMNS;
  // Column panels outside, row tiles inside: one packed panel (k × 32 floats at most) stays in L2
  // while every row tile reads it.
  for (int32_t n0 = 0; n0 < n; n0 += tileColumns) {
    const int32_t columns = n - n0 < tileColumns ? n - n0 : tileColumns;
    pack_panel(b, ldb, transposeB, k, n0, columns, tileColumns, panel);
    for (int32_t m0 = firstRow; m0 < firstRow + rowCount; m0 += tileRows) {
      int32_t rows = firstRow + rowCount - m0;
      if (rows > tileRows) rows = tileRows;
      const float *ap[PR_WIDE_ROWS];
      float *cp[PR_WIDE_ROWS];
      // Missing rows repeat the tile's last row: computed, never stored.
      for (int32_t i = 0; i < tileRows; i++) {
        const int32_t r = m0 + (i < rows ? i : rows - 1);
        ap[i] = a + (ptrdiff_t)r * lda;
        cp[i] = c + (ptrdiff_t)r * ldc + n0;
      }
      const float *biasp = bias ? bias + n0 : NULL;
#if PR_HAVE_X86
      if (resolved == 3) { gemm_tile_avx512(rows, columns, k, ap, panel, tileColumns, biasp, cp); continue; }
      if (resolved == 2) { gemm_tile_avx2(rows, columns, k, ap, panel, tileColumns, biasp, cp); continue; }
#endif
      gemm_tile_portable(rows, columns, k, ap, panel, tileColumns, biasp, cp);
    }
  }
}

// MARK: - Weight gradient

// Tiles of 4 output channels × 6 taps: 24 lane-vector accumulators, the 4 gradient vectors of a
// position loaded once for all 6 taps, and the input vector of a tap once for all 4 channels.
enum { PR_WG_CHANNELS = 4, PR_WG_TAPS = 6 };

int32_t pr_weight_gradient_tiles(int32_t outChannels, int32_t taps) {
  return ((outChannels + PR_WG_CHANNELS - 1) / PR_WG_CHANNELS) * ((taps + PR_WG_TAPS - 1) / PR_WG_TAPS);
}

// A tile's channels and taps; past the end they repeat the last one (computed, never stored).
typedef struct {
  int32_t channel[PR_WG_CHANNELS], tap[PR_WG_TAPS];
  int32_t channels, taps;  // live counts
} WGTile;

static void wg_tile_of(const PRWeightGradient *p, int32_t tile, WGTile *t) {
  const int32_t tapBlocks = (p->taps + PR_WG_TAPS - 1) / PR_WG_TAPS;
  const int32_t c0 = (tile / tapBlocks) * PR_WG_CHANNELS, t0 = (tile % tapBlocks) * PR_WG_TAPS;
  t->channels = p->outChannels - c0 < PR_WG_CHANNELS ? p->outChannels - c0 : PR_WG_CHANNELS;
  t->taps = p->taps - t0 < PR_WG_TAPS ? p->taps - t0 : PR_WG_TAPS;
  for (int32_t j = 0; j < PR_WG_CHANNELS; j++) t->channel[j] = c0 + (j < t->channels ? j : t->channels - 1);
  for (int32_t k = 0; k < PR_WG_TAPS; k++) t->tap[k] = t0 + (k < t->taps ? k : t->taps - 1);
}

// A tile's running sums: loaded from the partials (zeros for channels and taps past the end)
// and stored back, so a lane's chain of multiply-adds continues exactly where it stopped.
static void wg_load_sums(const PRWeightGradient *p, const WGTile *t, float acc[PR_WG_CHANNELS][PR_WG_TAPS][PR_WIDE_LANES]) {
  memset(acc, 0, sizeof(float) * PR_WG_CHANNELS * PR_WG_TAPS * PR_WIDE_LANES);
  for (int32_t j = 0; j < t->channels; j++)
    for (int32_t k = 0; k < t->taps; k++)
      memcpy(acc[j][k], p->partials + ((ptrdiff_t)t->channel[j] * p->taps + t->tap[k]) * PR_WIDE_LANES,
             sizeof(float) * PR_WIDE_LANES);
}

static void wg_store_sums(const PRWeightGradient *p, const WGTile *t, const float acc[PR_WG_CHANNELS][PR_WG_TAPS][PR_WIDE_LANES]) {
  for (int32_t j = 0; j < t->channels; j++)
    for (int32_t k = 0; k < t->taps; k++)
      memcpy(p->partials + ((ptrdiff_t)t->channel[j] * p->taps + t->tap[k]) * PR_WIDE_LANES, acc[j][k],
             sizeof(float) * PR_WIDE_LANES);
}

// The 16 lanes of a position: `count` values of row `a` in lanes 0…, and for narrow rows `count`
// values of row `b` (if any) from lane 8; zeros elsewhere.
static inline void wg_lanes(float out[PR_WIDE_LANES], const float *a, const float *b, int32_t count) {
  for (int32_t l = 0; l < PR_WIDE_LANES; l++) out[l] = 0.0f;
  for (int32_t l = 0; l < count; l++) out[l] = a[l];
  if (b)
    for (int32_t l = 0; l < count; l++) out[PR_LANES + l] = b[l];
}

// Every path's arithmetic, in plain C: lane l of accumulator (j, k) takes fmaf(gy, in, acc) per
// position in (sample, row, vector) order.
static void wg_tile_generic(const PRWeightGradient *p, int32_t tile) {
  WGTile t;
  wg_tile_of(p, tile, &t);
  float acc[PR_WG_CHANNELS][PR_WG_TAPS][PR_WIDE_LANES];
  wg_load_sums(p, &t, acc);
  const int32_t h = p->outHeight, w = p->outWidth, wide = w > PR_LANES;
  const ptrdiff_t plane = (ptrdiff_t)h * w, pitch = p->inputRowPitch;
  for (int32_t n = 0; n < p->samples; n++) {
    const float *in = p->inputs + (ptrdiff_t)n * p->inputImage;
    const float *gy = p->outputGradients + (ptrdiff_t)n * p->outChannels * plane;
    const int32_t rows = wide ? h : (h + 1) / 2, vectors = wide ? (w + PR_WIDE_LANES - 1) / PR_WIDE_LANES : 1;
    for (int32_t r = 0; r < rows; r++)
      for (int32_t v = 0; v < vectors; v++) {
        const int32_t y = wide ? r : 2 * r, x = v * PR_WIDE_LANES;
        const int32_t count = wide ? (w - x < PR_WIDE_LANES ? w - x : PR_WIDE_LANES) : w;
        const int32_t upper = !wide && y + 1 < h;
        float g[PR_WG_CHANNELS][PR_WIDE_LANES], xs[PR_WIDE_LANES];
        for (int32_t j = 0; j < PR_WG_CHANNELS; j++) {
          const float *row = gy + t.channel[j] * plane + (ptrdiff_t)y * w + x;
          wg_lanes(g[j], row, upper ? row + w : NULL, count);
        }
        for (int32_t k = 0; k < PR_WG_TAPS; k++) {
          const float *row = in + p->tapOffsets[t.tap[k]] + (ptrdiff_t)y * pitch + x;
          wg_lanes(xs, row, upper ? row + pitch : NULL, count);
          for (int32_t j = 0; j < PR_WG_CHANNELS; j++)
            for (int32_t l = 0; l < PR_WIDE_LANES; l++) acc[j][k][l] = fmaf(g[j][l], xs[l], acc[j][k][l]);
        }
      }
  }
  wg_store_sums(p, &t, acc);
}

#if PR_HAVE_X86
// Rows y and y + 1 of a narrow plane (at most 8 wide) in one 16-lane vector: `lower` in lanes 0–7,
// `upper` in lanes 8–15.
__attribute__((target("avx512f,avx2,fma")))
static inline __m512 pair_load(const float *lower, const float *upper) {
  return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(_mm256_loadu_ps(lower))),
                                             _mm256_castps_pd(_mm256_loadu_ps(upper)), 1));
}


// One specialisation per row kind (`wide` is a constant at each call), so each inner loop has
// a single load form and its 24 accumulators, 4 gradients and 1 input stay in registers.
__attribute__((target("avx512f,avx512vl,avx2,fma")))
static inline __attribute__((always_inline)) void wg_tile_avx512_body(const PRWeightGradient *p, int32_t tile,
                                                                     const int32_t wide, int32_t first, int32_t end,
                                                                     const float *packed) {
  WGTile t;
  wg_tile_of(p, tile, &t);
  // A whole tile's sums (consecutive channels and taps) move straight between the partials and
  // registers, a tile cut short by the channel or tap count through zero-filled lanes: one base
  // and one channel stride either way, so the accumulators stay in registers at -O2 (24 pointers
  // did not). A wide plane's tile visit is one sample: these moves recur every 1,536 FMAs.
  const int32_t whole = t.channels == PR_WG_CHANNELS && t.taps == PR_WG_TAPS;
  float lanes[PR_WG_CHANNELS][PR_WG_TAPS][PR_WIDE_LANES];
  if (!whole) wg_load_sums(p, &t, lanes);
  float *const sums = whole ? p->partials + ((ptrdiff_t)t.channel[0] * p->taps + t.tap[0]) * PR_WIDE_LANES : &lanes[0][0][0];
  const ptrdiff_t channelStride = whole ? (ptrdiff_t)p->taps * PR_WIDE_LANES : PR_WG_TAPS * PR_WIDE_LANES;
  __m512 acc[PR_WG_CHANNELS][PR_WG_TAPS];
  for (int32_t j = 0; j < PR_WG_CHANNELS; j++)
    for (int32_t k = 0; k < PR_WG_TAPS; k++) acc[j][k] = _mm512_loadu_ps(sums + j * channelStride + k * PR_WIDE_LANES);
  const int32_t h = p->outHeight, w = p->outWidth;
  const ptrdiff_t plane = (ptrdiff_t)h * w, pitch = p->inputRowPitch;
  ptrdiff_t offsets[PR_WG_TAPS];
  for (int32_t k = 0; k < PR_WG_TAPS; k++) offsets[k] = p->tapOffsets[t.tap[k]];
  const __mmask8 narrow = (__mmask8)((1u << (w < PR_LANES ? w : PR_LANES)) - 1);
  for (int32_t n = first; n < end; n++) {
    const float *in = p->inputs + (ptrdiff_t)n * p->inputImage;
    const float *gy = p->outputGradients + (ptrdiff_t)n * p->outChannels * plane;
    const float *gc[PR_WG_CHANNELS];
    for (int32_t j = 0; j < PR_WG_CHANNELS; j++)
      gc[j] = packed ? packed + ((ptrdiff_t)(n - first) * PR_WG_CHANNELS + j) * plane : gy + t.channel[j] * plane;
    if (wide) {
      for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x += PR_WIDE_LANES) {
          const int32_t count = w - x < PR_WIDE_LANES ? w - x : PR_WIDE_LANES;
          const __mmask16 mask = (__mmask16)(count >= 16 ? 0xFFFFu : (1u << count) - 1);
          const ptrdiff_t gOffset = (ptrdiff_t)y * w + x, iOffset = (ptrdiff_t)y * pitch + x;
          __m512 g[PR_WG_CHANNELS];
          // Full vectors load unmasked: a masked load costs a vector-port µop beside the FMAs.
          if (count == PR_WIDE_LANES) {
            for (int32_t j = 0; j < PR_WG_CHANNELS; j++) g[j] = _mm512_loadu_ps(gc[j] + gOffset);
            for (int32_t k = 0; k < PR_WG_TAPS; k++) {
              const __m512 xs = _mm512_loadu_ps(in + offsets[k] + iOffset);
              for (int32_t j = 0; j < PR_WG_CHANNELS; j++) acc[j][k] = _mm512_fmadd_ps(g[j], xs, acc[j][k]);
            }
            continue;
          }
          for (int32_t j = 0; j < PR_WG_CHANNELS; j++) g[j] = _mm512_maskz_loadu_ps(mask, gc[j] + gOffset);
          for (int32_t k = 0; k < PR_WG_TAPS; k++) {
            const __m512 xs = _mm512_maskz_loadu_ps(mask, in + offsets[k] + iOffset);
            for (int32_t j = 0; j < PR_WG_CHANNELS; j++) acc[j][k] = _mm512_fmadd_ps(g[j], xs, acc[j][k]);
          }
        }
    } else {
      for (int32_t y = 0; y < h; y += 2) {
        // A last odd row pairs with zeros (a zero mask loads nothing).
        const __mmask8 upper = y + 1 < h ? narrow : 0;
        const ptrdiff_t gOffset = (ptrdiff_t)y * w, iOffset = (ptrdiff_t)y * pitch;
        __m512 g[PR_WG_CHANNELS];
        if (w == PR_LANES && upper) {
          // Two full rows of 8: the gradient's are adjacent (one load), the input's a pitch apart.
          for (int32_t j = 0; j < PR_WG_CHANNELS; j++) g[j] = _mm512_loadu_ps(gc[j] + gOffset);
          for (int32_t k = 0; k < PR_WG_TAPS; k++) {
            const __m512 xs = pair_load(in + offsets[k] + iOffset, in + offsets[k] + iOffset + pitch);
            for (int32_t j = 0; j < PR_WG_CHANNELS; j++) acc[j][k] = _mm512_fmadd_ps(g[j], xs, acc[j][k]);
          }
          continue;
        }
        for (int32_t j = 0; j < PR_WG_CHANNELS; j++) {
          const __m256 lo = _mm256_maskz_loadu_ps(narrow, gc[j] + gOffset);
          const __m256 hi = _mm256_maskz_loadu_ps(upper, gc[j] + gOffset + w);
          g[j] = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)), _mm256_castps_pd(hi), 1));
        }
        for (int32_t k = 0; k < PR_WG_TAPS; k++) {
          const float *row = in + offsets[k] + iOffset;
          const __m256 lo = _mm256_maskz_loadu_ps(narrow, row), hi = _mm256_maskz_loadu_ps(upper, row + pitch);
          const __m512 xs = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)),
                                                                _mm256_castps_pd(hi), 1));
          for (int32_t j = 0; j < PR_WG_CHANNELS; j++) acc[j][k] = _mm512_fmadd_ps(g[j], xs, acc[j][k]);
        }
      }
    }
  }
  for (int32_t j = 0; j < PR_WG_CHANNELS; j++)
    for (int32_t k = 0; k < PR_WG_TAPS; k++) _mm512_storeu_ps(sums + j * channelStride + k * PR_WIDE_LANES, acc[j][k]);
  if (!whole) wg_store_sums(p, &t, lanes);
}

// A range of tiles, visited sample group by sample group: a group is as few samples as give a
// tile visit at least 64 vectors of work, so a large plane's tiles take one sample at a time and
// share its gradient planes in L1 (consecutive tiles differ in taps only), while a small plane's
// tiles keep their sums in registers across many samples. The grouping moves loads and stores of
// the running sums only; every lane's chain of multiply-adds is the same.
//
// A group of narrow planes' gradient rows is copied together first: for the tile's 4 channels
// they sit one sample's stride apart, and at 64 channels of 8×8 that stride is 16 KB, a multiple
// of the L1 cache's 4 KB way, so the 16 samples' rows competed for the same few sets and missed
// (the 8×8 layers ran at half the speed of the wider ones). The copy is shared by the tiles of a
// channel group, which run consecutively; it moves values, not arithmetic.
enum { PR_WG_PACKED = 4096 };

__attribute__((target("avx512f,avx512vl,avx2,fma")))
static void wg_tiles_avx512(const PRWeightGradient *p, int32_t firstTile, int32_t tileCount) {
  const int32_t wide = p->outWidth > PR_LANES;
  const int32_t perSample = wide ? p->outHeight * ((p->outWidth + PR_WIDE_LANES - 1) / PR_WIDE_LANES) : (p->outHeight + 1) / 2;
  int32_t group = (64 + perSample - 1) / perSample;
  if (group > p->samples) group = p->samples;
  const ptrdiff_t plane = (ptrdiff_t)p->outHeight * p->outWidth;
  const int32_t tapBlocks = (p->taps + PR_WG_TAPS - 1) / PR_WG_TAPS;
  const int32_t pack = !wide && PR_WG_CHANNELS * group * plane <= PR_WG_PACKED;
  float packed[PR_WG_PACKED];
  for (int32_t first = 0; first < p->samples; first += group) {
    const int32_t end = first + group < p->samples ? first + group : p->samples;
    int32_t packedChannels = -1;
    for (int32_t tile = firstTile; tile < firstTile + tileCount; tile++) {
      if (wide) {
        wg_tile_avx512_body(p, tile, 1, first, end, NULL);
        continue;
      }
      if (pack && tile / tapBlocks != packedChannels) {
        packedChannels = tile / tapBlocks;
        WGTile t;
        wg_tile_of(p, tile, &t);
        for (int32_t n = first; n < end; n++)
          for (int32_t j = 0; j < PR_WG_CHANNELS; j++)
            memcpy(packed + ((ptrdiff_t)(n - first) * PR_WG_CHANNELS + j) * plane,
                   p->outputGradients + ((ptrdiff_t)n * p->outChannels + t.channel[j]) * plane, sizeof(float) * plane);
      }
      wg_tile_avx512_body(p, tile, 0, first, end, pack ? packed : NULL);
    }
  }
}
#endif

void pr_weight_gradient(const PRWeightGradient *plan, int32_t firstTile, int32_t tileCount) {
  if (plan->outHeight <= 0 || plan->outWidth <= 0 || plan->taps <= 0) return;
  const int32_t resolved = pr_kernel_resolved_path(plan->path);
#if PR_HAVE_X86
  // AVX2 machines keep im2col + OpenBLAS for the weight gradient (a direct AVX2 version was 15%
  // slower there); an AVX2 request computes the same bits in portable C.
  if (resolved == 3) {
    wg_tiles_avx512(plan, firstTile, tileCount);
    return;
  }
#endif
  (void)resolved;
  for (int32_t tile = firstTile; tile < firstTile + tileCount; tile++) wg_tile_generic(plan, tile);
}

void pr_weight_gradient_finish(const float *partials, ptrdiff_t count, float *dw) {
  for (ptrdiff_t i = 0; i < count; i++) {
    double total = 0;
    for (int32_t l = 0; l < PR_WIDE_LANES; l++) total += partials[i * PR_WIDE_LANES + l];
    dw[i] = (float)total;
  }
}
