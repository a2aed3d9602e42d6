#ifndef PIXELROBUST_CKERNELS_H
#define PIXELROBUST_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "WorkerPool.h"

/// Which instruction set the kernels below use. Every path performs the same fused multiply-adds
/// in the same order, so all of them give identical bits; the choice changes speed only.
typedef enum {
  PRKernelPathAutomatic = 0,  ///< AVX-512 where the CPU has it, else AVX2 + FMA, else portable.
  PRKernelPathPortable = 1,   ///< Plain C with fmaf.
  PRKernelPathAVX2 = 2,       ///< AVX2 + FMA even on an AVX-512 CPU (portable where absent).
} PRKernelPath;

/// The path `path` resolves to on this CPU: 1 for portable, 2 for AVX2 + FMA, 3 for AVX-512F
/// (the direct convolution's rows wider than 8; everything else runs its AVX2 code there).
int32_t pr_kernel_resolved_path(PRKernelPath path);

/// One sample's direct convolution over a prepared input (see pr_prepare_planes):
///   out[o, y, x] = bias[o] + Σ_t w[o, t] · in[tapOffsets[t] + y·inputRowPitch + x]
/// summed with one fused multiply-add per tap in tap order, starting from the bias (or +0). The
/// value of an output therefore depends only on the inputs it reads, never on where it sits,
/// on the batch, or on the instruction set.
typedef struct {
  const float *input;
  ptrdiff_t inputRowPitch;
  const int32_t *tapOffsets;
  int32_t taps;
  /// Packed weights: [ceil(outChannels / 4)][taps][4], zero past outChannels.
  const float *weights;
  /// [outChannels], or NULL for none.
  const float *bias;
  int32_t outChannels, outHeight, outWidth;
  float *output;
  ptrdiff_t outputChannelPitch, outputRowPitch, outputColumnStride;
  PRKernelPath path;
  /// Scratch of pr_direct_convolution_scratch(taps, outHeight, outWidth, path) floats, private
  /// to the call (NULL when that is 0).
  float *scratch;
  /// With `rectify`, each block's outputs, while still in cache, become
  ///   v = out + adding[same place] (without `adding`: v = out),  out = v > 0 ? v : +0,
  ///   mask[same place] = v > 0 (when `mask` is not NULL),
  /// where the same place is the output's offset from `output` (an NCHW sum and ReLU). It needs
  /// the layout of a forward pass's output: outputColumnStride 1, outputRowPitch outWidth and
  /// outputChannelPitch outHeight·outWidth, with 4·outputChannelPitch within int32_t.
  int32_t rectify;
  const float *adding;
  uint8_t *mask;
} PRDirectConvolution;

/// Computes output channels 4·firstBlock ..< 4·(firstBlock + blockCount) of `plan`. Reads whole
/// vectors of up to 16 floats along each output row, so up to 15 floats past a row's last input
/// (callers leave that much readable slack).
void pr_direct_convolution(const PRDirectConvolution *plan, int32_t firstBlock, int32_t blockCount);

/// The floats of scratch a pr_direct_convolution call with these extents needs: on AVX-512, rows
/// of at most 8 outputs are read from a copy of the taps' input rows, two rows to a vector.
ptrdiff_t pr_direct_convolution_scratch(int32_t taps, int32_t outHeight, int32_t outWidth, PRKernelPath path);

/// The weight gradient of a direct convolution over a chunk of samples, as partial sums in 16
/// lanes: for tap t and output channel o,
///   partials[o, t, l] += Σ_n Σ_(y, x) in lane l gy[n, o, y, x] · in_n[tapOffsets[t] + y·inputRowPitch + x]
/// where rows wider than 8 are cut into 16-lane vectors (lane l holds x ≡ l mod 16) and narrower
/// rows go two to a vector (row 2i in lanes 0–7, row 2i + 1 in lanes 8–15). Each lane is one chain
/// of fused multiply-adds in (sample, row, vector) order that continues from the partial's value,
/// on every path; so calling it on consecutive chunks of samples gives the bits of one call on all
/// of them, whatever the chunking, the thread count or the instruction set.
typedef struct {
  /// Prepared inputs (pr_prepare_planes) of `samples` samples, `inputImage` floats apart.
  const float *inputs;
  ptrdiff_t inputImage, inputRowPitch;
  const int32_t *tapOffsets;
  int32_t taps;
  /// [samples][outChannels][outHeight][outWidth], contiguous.
  const float *outputGradients;
  int32_t samples, outChannels, outHeight, outWidth;
  /// [outChannels][taps][16], accumulated into.
  float *partials;
  PRKernelPath path;
} PRWeightGradient;

/// The number of tiles (4 output channels × 6 taps) pr_weight_gradient splits its work into.
int32_t pr_weight_gradient_tiles(int32_t outChannels, int32_t taps);

/// Adds tiles `firstTile ..< firstTile + tileCount` of the chunk to the partials; distinct
/// tiles write distinct partials, so they may run on different threads. Reads whole vectors of
/// up to 16 floats along each row (up to 15 past a row's last input: callers leave the slack).
void pr_weight_gradient(const PRWeightGradient *plan, int32_t firstTile, int32_t tileCount);

/// dw[i] = Σ_l partials[i, l], the 16 lanes added in lane order in double precision.
void pr_weight_gradient_finish(const float *partials, ptrdiff_t count, float *dw);

/// Writes the zero-padded, phase-split input a strided convolution reads contiguously:
///   padded[c, top + y, left + x] = src[c, y, x], 0 elsewhere, size
///   paddedHeight × paddedWidth per channel;
///   dst[c, ry, rx, i, j] = padded[c, i·stride + ry, j·stride + rx], each phase plane
///   ceil(paddedHeight / stride) × ceil(paddedWidth / stride).
/// `dstCount` floats are written in all (zeros past the planes, the slack the kernel reads) —
/// or, with `zerosInPlace`, only the source values: for a buffer that already holds this layout
/// (a previous sample's), whose zeros are where they must be.
void pr_prepare_planes(const float *src, int32_t channels, int32_t height, int32_t width, int32_t top,
                       int32_t left, int32_t paddedHeight, int32_t paddedWidth, int32_t stride,
                       float *dst, ptrdiff_t dstCount, int32_t zerosInPlace);

/// C[m, n] = bias[n] + Σ_k A[m, k] · op(B)[k, n] for rows `firstRow ..< firstRow + rowCount`, the
/// sum one fused multiply-add per k in increasing k, starting from the bias (or +0): a row's
/// result depends on that row of A and on B only, never on M, on the row's position or on the
/// instruction set. A is row-major with leading dimension lda; B is row-major [K, N], or [N, K]
/// with `transposeB`, with leading dimension ldb; C has ldc; `bias` may be NULL. `panel` is
/// scratch of K × `PRRowGEMMPanelColumns` floats, private to the call (B is copied into it one
/// panel of columns at a time).
void pr_row_gemm(int32_t firstRow, int32_t rowCount, int32_t n, int32_t k, const float *a, ptrdiff_t lda,
                 const float *b, ptrdiff_t ldb, int32_t transposeB, const float *bias, float *c, ptrdiff_t ldc,
                 float *panel, PRKernelPath path);

/// The largest tile of `pr_row_gemm` on any path: rows of C (a multiple of every path's tile
/// height, so splitting rows across threads at multiples of it adds no partial tile) and the
/// columns of one packed panel of B.
enum { PRRowGEMMTileRows = 12, PRRowGEMMPanelColumns = 32 };

#endif
