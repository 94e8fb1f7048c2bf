/* kestrel-kernels.h — the public face of Kestrel's SIMD kernel library.
 *
 * Plain C11, no GLib. Prefix "kk_" = Kestrel kernels.
 *
 * Every kernel family has a scalar reference version (always built, the test
 * oracle) and SSE4.2, AVX2, AVX-512 and NEON versions, one file per
 * instruction set. CPU features are detected once; kk_kernels_get() returns a
 * table of function pointers for an instruction set. Callers never name an ISA
 * function directly: they go through a table, so the rollback path (scalar)
 * and the fast path share every line of calling code.
 *
 * Image kernels work on row ranges [row_begin, row_end) of their *output* so
 * that core/ can split a frame across threads without the kernels knowing
 * about threads.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Instruction sets and CPU features -------------------------------- */

typedef enum {
  KK_ISA_SCALAR = 0,
  KK_ISA_SSE42,   /* SSE4.2 + SSSE3 + POPCNT */
  KK_ISA_AVX2,    /* AVX2 + FMA + F16C, with YMM state enabled by the OS */
  KK_ISA_AVX512,  /* AVX-512 F/BW/VL/DQ, with ZMM/opmask state enabled by the OS */
  KK_ISA_NEON,    /* aarch64 Advanced SIMD */
  KK_ISA_COUNT
} kk_isa;

typedef struct {
  char vendor[13];     /* "GenuineIntel", "AuthenticAMD", "" on non-x86 */
  char brand[49];      /* processor brand string, or "" */
  unsigned family, model, stepping;
  /* x86 (each already masked by what the OS enables via XGETBV) */
  bool sse2, ssse3, sse41, sse42, popcnt;
  bool avx, avx2, fma, f16c, bmi2;
  bool avx512f, avx512bw, avx512vl, avx512dq, avx512cd, avx512_vnni, avx512_bf16, avx512_fp16;
  bool avx_vnni, amx_tile;
  bool os_ymm, os_zmm;  /* XCR0 says the OS saves YMM / ZMM+opmask state */
  /* aarch64 (HWCAP, HWCAP2) */
  bool neon, asimd_dotprod, asimd_fp16, sve, i8mm, bf16;
} kk_cpu_features;

/* Detected once (thread-safe), never changes afterwards. */
const kk_cpu_features *kk_cpu_features_get (void);

/* Fills names[] with lower-case feature names ("avx2", "avx512f",
 * "avx512_vnni", "f16c", ...) that this CPU has; returns how many there are
 * (may exceed max, in which case only max were written). */
size_t kk_cpu_feature_names (const char **names, size_t max);

const char *kk_isa_name (kk_isa isa);              /* "scalar", "sse4.2", "avx2", "avx512", "neon" */
bool kk_isa_from_name (const char *name, kk_isa *out);
bool kk_isa_hw_supported (kk_isa isa);             /* the CPU + OS can run it */

/* The best ISA the hardware supports, lowered by the KESTREL_ISA environment
 * variable (scalar|sse4.2|avx2|avx512|neon) when that is set. A KESTREL_ISA
 * naming an ISA this CPU lacks, or an unknown name, is ignored and reported
 * by kk_isa_override_error(). */
kk_isa kk_isa_best (void);
const char *kk_isa_override_error (void);          /* NULL when none */

/* ---- Optimisation levels (docs/architecture.md) ------------------------- */

typedef enum {
  KK_LEVEL_SCALAR = 0,  /* reference kernels, 1 thread: the rollback path */
  KK_LEVEL_SIMD,        /* best ISA, 1 thread */
  KK_LEVEL_PARALLEL,    /* reference kernels, N threads */
  KK_LEVEL_FULL,        /* best ISA, N threads */
  KK_LEVEL_COUNT
} kk_level;

const char *kk_level_name (kk_level level);
bool kk_level_from_name (const char *name, kk_level *out);
kk_isa kk_level_isa (kk_level level);              /* scalar or kk_isa_best() */
bool kk_level_is_parallel (kk_level level);

/* ---- Image descriptions -------------------------------------------------- */

typedef enum {
  KK_PIXEL_GRAY8 = 0,
  KK_PIXEL_RGB8,
  KK_PIXEL_RGBA8,
  KK_PIXEL_BGRA8,
  KK_PIXEL_BGRX8,   /* BGRA whose 4th byte is padding */
  KK_PIXEL_COUNT
} kk_pixel_format;

size_t kk_pixel_format_channels (kk_pixel_format format); /* bytes per pixel */

typedef struct {
  const uint8_t *data;
  size_t width, height;
  size_t stride;           /* bytes between row starts, >= width * channels */
  kk_pixel_format format;
} kk_image_view;

typedef enum { KK_LAYOUT_NHWC = 0, KK_LAYOUT_NCHW } kk_layout;

/* The arithmetic of binary_f32. */
typedef enum { KK_BINARY_ADD = 0, KK_BINARY_SUB, KK_BINARY_MUL, KK_BINARY_DIV, KK_BINARY_COUNT } kk_binary_op;

/* Fused model input: frame -> float tensor [H][W][3] or [3][H][W], channels
 * always in R, G, B order, out = sample * scale[c] + offset[c] where sample is
 * the bilinear (half-pixel centres, edges clamped) value in 0..255.
 * With letterbox the frame keeps its aspect ratio, is centred, and the
 * uncovered area is filled with pad[c] (already in output units). */
typedef struct {
  size_t width, height;
  kk_layout layout;
  float scale[3], offset[3];
  bool letterbox;
  float pad[3];
} kk_model_input_params;

/* Where the frame lands in the tensor: tensor_x = frame_x * scale_x + pad_x
 * (same for y). Decoders use it to map detections back to the frame. */
typedef struct {
  float scale_x, scale_y;
  float pad_x, pad_y;
} kk_model_input_geometry;

void kk_model_input_geometry_compute (size_t src_width, size_t src_height,
                                      const kk_model_input_params *params,
                                      kk_model_input_geometry *out);

/* ---- Inference kernel parameters ---------------------------------------- */

/* The activation a gemm_f32 epilogue applies last, after the clamp (the
 * ones ConvNhwc fuses): sigmoid y = 1 / (1 + exp (-x)) and SiLU
 * y = x * sigmoid (x), with the eltwise family's definitions (the scalar
 * reference calls expf; the SIMD versions use a polynomial exp and differ
 * by rounding, as sigmoid_f32 and silu_f32 do). 0, the value a
 * designated initializer leaves, is none. */
typedef enum {
  KK_GEMM_ACT_NONE = 0,
  KK_GEMM_ACT_SIGMOID,
  KK_GEMM_ACT_SILU,
} kk_gemm_act;

/* What a gemm does to each result before storing it. bias (n values) and
 * residual (R, row stride ldr) may be NULL. lo/hi: -INFINITY/INFINITY for
 * none, 0/INFINITY for ReLU, 0/6 for ReLU6. act: gemm_f32 only (gemm_f16
 * takes KK_GEMM_ACT_NONE: its results are defined to the bit). */
typedef struct {
  const float *bias;
  const float *residual;
  size_t ldr;
  float lo, hi;
  kk_gemm_act act;
} kk_gemm_epilogue;

typedef struct {
  size_t batch, in_h, in_w, channels;
  size_t out_h, out_w;
  size_t kernel_h, kernel_w;
  size_t stride_h, stride_w;
  size_t dilation_h, dilation_w;
  size_t pad_top, pad_left;      /* bottom/right padding follows from out_h/out_w */
  const float *weights;          /* [kernel_h][kernel_w][channels] */
  const float *bias;             /* [channels] or NULL */
  float lo, hi;                  /* clamp after bias */
  /* The output row that `out` points at: row r is stored at
   * out + (r - out_row0) * out_w * channels. 0 for a whole tensor; a caller
   * that keeps a band of rows in a small buffer sets it to the band's first
   * row (and asks for no row before it). */
  size_t out_row0;
} kk_dwconv_params;

/* Repacks ONNX depthwise weights [C][1][kh][kw] into [kh][kw][C]. */
void kk_dwconv_f32_pack_weights (const float *onnx_weights, size_t channels,
                                 size_t kernel_h, size_t kernel_w, float *packed);
/* The same for FP16 weights (IEEE halves, moved as they are). */
void kk_dwconv_f16_pack_weights (const uint16_t *onnx_weights, size_t channels,
                                 size_t kernel_h, size_t kernel_w, uint16_t *packed);

typedef struct {
  size_t batch, in_h, in_w, channels;
  size_t out_h, out_w;
  size_t kernel_h, kernel_w;
  size_t stride_h, stride_w;
  size_t dilation_h, dilation_w;
  size_t pad_top, pad_left;
} kk_pool_params;

/* ---- INT8 inference (u8 activations, s8 weights) ------------------------- *
 *
 * The arithmetic is defined exactly, so every instruction set gives the same
 * bits (the canary compares them):
 *
 *   activations  real = (q - zero_point) * scale, q in u8, per tensor
 *   weights      real = w * scale[channel], w in s8 [-127, 127] (never -128)
 *   bias         s32, in units of input scale * weight scale[channel]
 *   accumulator  acc = bias + sum_k (a - a_zero_point) * w, exact in s32
 *                (k <= KK_QGEMM_MAX_K and |bias| <= KK_QGEMM_MAX_ABS_BIAS keep it
 *                inside s32 whatever the data)
 *   requantise   out = clamp (zero_point + round (acc * multiplier / 2^shift), lo, hi)
 *
 * with a single rounding rule everywhere: round (x) = floor (x + 1/2), half
 * towards +infinity, computed on the exact integer product. The real
 * multiplier input scale * weight scale[c] / output scale is
 * multiplier[c] / 2^shift: one shift per layer, one 31-bit multiplier per
 * output channel (kk_requant_from_scales picks them). Relu and Clip fold
 * into lo and hi.
 */
#define KK_QGEMM_MAX_K 32768
#define KK_QGEMM_MAX_ABS_BIAS (1 << 30)
#define KK_REQUANT_MIN_SHIFT 33
#define KK_REQUANT_MAX_SHIFT 62

typedef struct {
  const int32_t *multiplier;  /* per output channel, each in [0, 2^31) */
  uint32_t shift;             /* KK_REQUANT_MIN_SHIFT .. KK_REQUANT_MAX_SHIFT */
  int32_t zero_point;         /* output zero point, 0 .. 255 */
  uint8_t lo, hi;             /* output clamp, lo <= hi; 0/255 for none */
} kk_requant;

/* INT4 weights (weight-only, block-wise along k): the same gemm as above,
 * with W given in blocks of KK_QGEMM_S4_BLOCK consecutive k of one column.
 * A block has an integer multiplier m (0 .. 127) and a zero point z
 * (0 .. 15), each weight a nibble q (0 .. 15), two per byte:
 *
 *   W[k][j] = m[j][k / 32] * (q[k][j] - z[j][k / 32]),  |W[k][j]| <= 127
 *
 * The real weight is W * scale[j] as at INT8, so a block's own scale is
 * m * scale[j]: an integer multiple of the channel's unit. That keeps the
 * whole sum an exact integer: the result is defined as qgemm_u8s8's on the
 * widened W (the same accumulator, bias, zero point and requantisation),
 * and every instruction set gives the same bits. The kernels widen the
 * nibbles to s8 one column block at a time, into a stack buffer, and run
 * the int8 tiles over it; k <= KK_QGEMM_S4_MAX_K bounds that buffer (a
 * layer with a longer k stays INT8). */
#define KK_QGEMM_S4_BLOCK 32
#define KK_QGEMM_S4_MAX_K 1024

/* Chooses the shared shift and per-channel multipliers for real multipliers
 * scales[0..n) (input scale * weight scale / output scale): the largest
 * shift at which every multiplier fits 31 bits, at most
 * KK_REQUANT_MAX_SHIFT. Fails (returns false) when a scale is negative or
 * not finite, or the largest is >= 0.25 (2^31 / 2^KK_REQUANT_MIN_SHIFT):
 * such a layer stays in float. Channels much smaller than the largest keep
 * fewer bits of multiplier; the error that adds is below 2^-31 * |acc|
 * relative to the exact product. */
bool kk_requant_from_scales (const double *scales, size_t n, int32_t *multiplier, uint32_t *shift);

/* Requantising add and rescale (u8 -> u8), per tensor:
 *   out = clamp (zero_point + floor (((a - zero_point_a) * multiplier_a
 *                                     + (b - zero_point_b) * multiplier_b
 *                                     + 2^(shift - 1)) / 2^shift), lo, hi)
 * all in exact s32 arithmetic (multipliers <= KK_QADD_MAX_MULTIPLIER keep
 * every intermediate inside s32). Rescale (concat inputs, any u8 -> u8
 * change of scale) is the same with no b. Same rounding rule as above. */
#define KK_QADD_MAX_MULTIPLIER (1 << 21)

typedef struct {
  int32_t multiplier_a, multiplier_b;  /* 0 .. KK_QADD_MAX_MULTIPLIER */
  uint32_t shift;                      /* 1 .. 31 */
  int32_t zero_point_a, zero_point_b;  /* 0 .. 255 */
  int32_t zero_point;                  /* output, 0 .. 255 */
  uint8_t lo, hi;
} kk_qadd_params;

/* Fills multipliers and shift for out = a * scale_a / scale_out (+ b *
 * scale_b / scale_out); scale_b may be 0 for a rescale. Fails when a ratio
 * is negative or not finite, or above 2^20 (the multipliers would not fit).
 * Zero points and clamp are left to the caller. */
bool kk_qadd_params_from_scales (double scale_a, double scale_b, double scale_out,
                                 kk_qadd_params *params);

/* Depthwise convolution on u8 NHWC, weights s8 [kernel_h][kernel_w][channels]
 * (kk_dwconv_s8_pack_weights), bias s32 per channel, fused requantisation.
 * Padding reads as the input zero point (real 0). Any kernel size (3x3 and
 * 5x5 in BlazeFace; kernel_h * kernel_w <= KK_QGEMM_MAX_K) and stride,
 * dilation 1; |bias| <= KK_QGEMM_MAX_ABS_BIAS. */
typedef struct {
  size_t batch, in_h, in_w, channels;
  size_t out_h, out_w;
  size_t kernel_h, kernel_w;
  size_t stride_h, stride_w;
  size_t pad_top, pad_left;
  const int8_t *weights;       /* [kernel_h][kernel_w][channels] */
  const int32_t *bias;         /* [channels] or NULL */
  int32_t input_zero_point;    /* 0 .. 255 */
  kk_requant requant;          /* multiplier[channels] */
  size_t out_row0;             /* as in kk_dwconv_params */
} kk_qdwconv_params;

/* Repacks ONNX depthwise weights [C][1][kh][kw] into [kh][kw][C]. */
void kk_dwconv_s8_pack_weights (const int8_t *onnx_weights, size_t channels,
                                size_t kernel_h, size_t kernel_w, int8_t *packed);

/* ---- The kernel table ---------------------------------------------------- */

typedef struct kk_kernels {
  kk_isa isa;

  /* colour: n pixels of one row to Gray8, ITU-R BT.601 luma in fixed point,
   * bit-exact across ISAs:
   *   Y = (9798 R + 19235 G + 3735 B + 16384) >> 15 */
  void (*gray_from_rgb8) (const uint8_t *src, uint8_t *dst, size_t n);
  void (*gray_from_rgba8) (const uint8_t *src, uint8_t *dst, size_t n);
  void (*gray_from_bgra8) (const uint8_t *src, uint8_t *dst, size_t n);  /* also BGRx */

  /* threshold: dst[i] = src[i] > thresh ? maxval : 0 */
  void (*threshold_u8) (const uint8_t *src, uint8_t *dst, size_t n, uint8_t thresh, uint8_t maxval);

  /* normalize: population mean and variance (accumulated in double in the
   * reference), and y = (x - mean) * inv_std */
  void (*mean_var_f32) (const float *x, size_t n, double *mean, double *var);
  void (*normalize_f32) (const float *x, float *y, size_t n, float mean, float inv_std);

  /* resize: bilinear u8 with half-pixel centres and clamped edges, 1, 3 or 4
   * channels, any scale, any strides; fixed-point weights so the result is
   * bit-exact across ISAs. Writes output rows [row_begin, row_end). */
  void (*resize_bilinear_u8) (const uint8_t *src, size_t src_w, size_t src_h, size_t src_stride,
                              uint8_t *dst, size_t dst_w, size_t dst_h, size_t dst_stride,
                              size_t channels, size_t row_begin, size_t row_end);

  /* model input (see kk_model_input_params); src formats RGB8, RGBA8, BGRA8,
   * BGRX8 and GRAY8 (replicated to 3 channels). Writes tensor rows
   * [row_begin, row_end) (rows of the output height). */
  void (*model_input) (const kk_image_view *src, float *dst,
                       const kk_model_input_params *params, size_t row_begin, size_t row_end);

  /* convert: IEEE half <-> float (round to nearest even, NaN/Inf/subnormals
   * preserved), and affine quantisation as in ONNX QuantizeLinear:
   *   q = saturate(round_half_even(x / scale) + zero_point)
   *   x = (q - zero_point) * scale
   * Inputs to quantize are finite. */
  void (*f32_to_f16) (const float *src, uint16_t *dst, size_t n);
  void (*f16_to_f32) (const uint16_t *src, float *dst, size_t n);
  void (*quantize_f32_s8) (const float *src, int8_t *dst, size_t n, float scale, int32_t zero_point);
  void (*quantize_f32_u8) (const float *src, uint8_t *dst, size_t n, float scale, int32_t zero_point);
  void (*dequantize_s8_f32) (const int8_t *src, float *dst, size_t n, float scale, int32_t zero_point);
  void (*dequantize_u8_f32) (const uint8_t *src, float *dst, size_t n, float scale, int32_t zero_point);

  /* ---- Inference kernels (float32, NHWC), used by the ONNX engine ---- */

  /* gemm: C[m][n] = clamp (sum_k A[m][k] * B[k][n] + bias[n] + R[m][n], lo, hi)
   * for rows m in [0, m_count) of A, C and R (callers offset the pointers to
   * split rows across threads). B is packed once, at plan time, in this
   * table's own panel layout by gemm_f32_pack_b; the packed size comes from
   * gemm_f32_packed_size. The reference accumulates in k order, one
   * multiply and one add per step (no FMA), so other ISAs differ by rounding
   * only. Then the epilogue's act, if any (AVX-512 and AVX2 in registers
   * before the store, SSE4.2 and NEON over the rows of C at the end of the
   * call); at every ISA the table's sigmoid_f32 / silu_f32 to the bit. */
  size_t (*gemm_f32_packed_size) (size_t k, size_t n);
  void (*gemm_f32_pack_b) (const float *b, size_t k, size_t n, bool b_is_nk, float *packed);
  void (*gemm_f32) (size_t m_count, size_t n, size_t k, const float *a, size_t lda,
                    const float *packed_b, float *c, size_t ldc, const kk_gemm_epilogue *epilogue);
  /* The reference gemm's arithmetic to the bit (gemm_f32 of the scalar
   * table), at this table's ISA: B packed by the scalar table's
   * gemm_f32_pack_b. AVX2, AVX-512 and NEON have their own (a rounded
   * multiply then a rounded add per k, never fused); SSE4.2 and scalar
   * tables hold the reference itself. For the float steps of integer
   * plans (kk_kernels_get_exact). */
  void (*gemm_f32_exact) (size_t m_count, size_t n, size_t k, const float *a, size_t lda,
                          const float *packed_b, float *c, size_t ldc, const kk_gemm_epilogue *epilogue);

  /* gemm with FP16 weights: the same product and epilogue as gemm_f32, A, C,
   * bias and residual in float, B stored as IEEE half (gemm_f16_pack_b
   * rounds each weight to the nearest half, ties to even; the packed size
   * is in halves) and widened to float inside the kernel, a tile of B at a
   * time (F16C on x86 AVX2/AVX-512, FCVTL on NEON). Unlike gemm_f32 the
   * arithmetic is defined to the bit, so every ISA gives the same result:
   * each sum starts at +0 and takes its products in k order, each by one
   * fused multiply-add (fmaf: a single rounding), then + bias, then +
   * residual, then the clamp (x < lo -> lo, x > hi -> hi: NaN and -0 pass
   * as they are). SSE4.2, without FMA, uses the scalar reference. */
  size_t (*gemm_f16_packed_size) (size_t k, size_t n);
  void (*gemm_f16_pack_b) (const float *b, size_t k, size_t n, bool b_is_nk, uint16_t *packed);
  void (*gemm_f16) (size_t m_count, size_t n, size_t k, const float *a, size_t lda,
                    const uint16_t *packed_b, float *c, size_t ldc, const kk_gemm_epilogue *epilogue);

  /* depthwise convolution, NHWC, any kernel size, stride, dilation and
   * padding, fused bias and clamp; writes output rows [row_begin, row_end)
   * of all images (row index = image * out_h + y). Weights packed [kh][kw][C]
   * by kk_dwconv_f32_pack_weights (ISA-independent layout). */
  void (*dwconv_f32_nhwc) (const kk_dwconv_params *p, const float *in, float *out,
                           size_t row_begin, size_t row_end);
  /* The reference depthwise convolution's arithmetic to the bit
   * (dwconv_f32_nhwc of the scalar table: bias, then one rounded multiply
   * and one rounded add per in-bounds tap in (ky, kx) order, then the clamp),
   * at this table's ISA: AVX2, AVX-512 and NEON have their own, SSE4.2's
   * dwconv_f32_nhwc is already exact, scalar tables hold the reference.
   * For kk_kernels_get_exact. */
  void (*dwconv_f32_nhwc_exact) (const kk_dwconv_params *p, const float *in, float *out,
                                 size_t row_begin, size_t row_end);
  /* The same with FP16 weights (FP16 plans): IEEE halves packed [kh][kw][C]
   * by kk_dwconv_f16_pack_weights, widened to float as they are loaded
   * (F16C, NEON FCVTL); p->weights is not read. Unlike dwconv_f32_nhwc the
   * arithmetic is defined to the bit, so every ISA gives the same result:
   * each output starts at its bias (+0 without one), takes its in-bounds
   * taps in (ky, kx) order, each by one fused multiply-add (fmaf), then the
   * clamp (x > hi -> hi, x < lo -> lo: NaN passes). SSE4.2, without FMA,
   * uses the scalar reference. */
  void (*dwconv_f16_nhwc) (const kk_dwconv_params *p, const uint16_t *weights, const float *in,
                           float *out, size_t row_begin, size_t row_end);

  /* max pooling, NHWC, any window, stride and padding (padding never wins);
   * writes output rows [row_begin, row_end) as dwconv does. */
  void (*maxpool_f32_nhwc) (const kk_pool_params *p, const float *in, float *out,
                            size_t row_begin, size_t row_end);

  /* global average pooling, NHWC: for c < channels,
   *   y[c] = (0 + x[c] + x[stride + c] + ... + x[(pixels - 1) * stride + c]) / pixels
   * summed in pixel order, so every ISA gives the same bits (lanes run along
   * channels); y[c] = 0 when pixels is 0. */
  void (*avgpool_global_f32_nhwc) (const float *x, size_t pixels, size_t channels, size_t stride,
                                   float *y);

  /* elementwise: y[i] = a[i * a_step] op b[i * b_step] for i < n, op one of
   * kk_binary_op, a_step and b_step each 0 (one value for all i) or 1. One
   * IEEE operation per element: every ISA gives the same bits. y may be a or
   * b when its step is 1. */
  void (*binary_f32) (kk_binary_op op, const float *a, size_t a_step, const float *b,
                      size_t b_step, float *y, size_t n);

  /* elementwise: y = clamp (a + b, lo, hi) and y = clamp (x, lo, hi) */
  void (*add_clamp_f32) (const float *a, const float *b, float *y, size_t n, float lo, float hi);
  void (*clamp_f32) (const float *x, float *y, size_t n, float lo, float hi);
  /* activations: y = 1 / (1 + exp (-x)) and y = x / (1 + exp (-x)); other
   * ISAs than scalar differ from it by rounding (see eltwise.h) */
  void (*sigmoid_f32) (const float *x, float *y, size_t n);
  void (*silu_f32) (const float *x, float *y, size_t n);
  /* hard sigmoid and hard swish (the activations ConvNhwc fuses): g =
   * clamp (alpha * x + beta, 0, 1), a multiply and an add each rounded,
   * the clamp as clamp_f32's (a NaN stays NaN); y = g, or x * g when
   * times_x. Exact: every ISA gives the reference's bits (y may be x). */
  void (*hard_gate_f32) (const float *x, float *y, size_t n, float alpha, float beta, bool times_x);
  /* softmax of one contiguous row: y = exp (x - max (x)) / sum, the sum in
   * float (y may be x); other ISAs than scalar differ from it by rounding
   * (see eltwise.h) */
  void (*softmax_f32) (const float *x, float *y, size_t n);

  /* ---- INT8 inference kernels (see "INT8 inference" above) ---- */

  /* qgemm: for rows m in [0, m_count) of A (u8, row stride lda) and C,
   *   acc[m][j] = bias[j] + sum_k (A[m][k] - a_zero_point) * W[k][j]
   * requantised to u8 (qgemm_u8s8_requant, rq->multiplier[j] per column) or
   * stored as is (qgemm_u8s8_s32, e.g. before a float output). Callers
   * split rows across threads by offsetting a and c. W (s8 in [-127, 127],
   * [k][n] or [n][k]), the bias (s32, NULL for none) and the activations'
   * zero point are packed together once, at plan time, by qgemm_u8s8_pack
   * into this table's own layout (qgemm_u8s8_packed_size bytes, the buffer
   * aligned for int32_t). k <= KK_QGEMM_MAX_K. */
  size_t (*qgemm_u8s8_packed_size) (size_t k, size_t n);
  void (*qgemm_u8s8_pack) (const int8_t *w, size_t k, size_t n, bool w_is_nk,
                           const int32_t *bias, uint8_t a_zero_point, void *packed);
  void (*qgemm_u8s8_requant) (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
                              const void *packed, uint8_t *c, size_t ldc, const kk_requant *rq);
  void (*qgemm_u8s8_s32) (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
                          const void *packed, int32_t *c, size_t ldc);
  /* INT4 weights (see "INT4 weights" above): q [n][k] or [k][n], one
   * nibble value per byte; m and z [n][ceil (k / 32)]. The packed layout is
   * the version's own (qgemm_u8s4_packed_size bytes, aligned for int32_t);
   * k <= KK_QGEMM_S4_MAX_K. The entries run as the u8s8 ones. */
  size_t (*qgemm_u8s4_packed_size) (size_t k, size_t n);
  void (*qgemm_u8s4_pack) (const uint8_t *q, const uint8_t *m, const uint8_t *z, size_t k,
                           size_t n, bool q_is_nk, const int32_t *bias, uint8_t a_zero_point,
                           void *packed);
  void (*qgemm_u8s4_requant) (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
                              const void *packed, uint8_t *c, size_t ldc, const kk_requant *rq);
  void (*qgemm_u8s4_s32) (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
                          const void *packed, int32_t *c, size_t ldc);
  /* Which version the four qgemm entries are ("scalar", "sse42", "avx2",
   * "avx512bw", "avx512vnni", "neon", "neondot"): within one ISA the CPU's
   * dot-product extension picks it, so tests and `kestrel-cli info` say
   * which one ran. */
  const char *qgemm_version;

  /* depthwise convolution u8 -> u8, NHWC, rows [row_begin, row_end) as
   * dwconv_f32_nhwc. */
  void (*qdwconv_u8_nhwc) (const kk_qdwconv_params *p, const uint8_t *in, uint8_t *out,
                           size_t row_begin, size_t row_end);

  /* max pooling on u8 NHWC (scale and zero point pass through unchanged). */
  void (*maxpool_u8_nhwc) (const kk_pool_params *p, const uint8_t *in, uint8_t *out,
                           size_t row_begin, size_t row_end);

  /* requantising add and rescale, n elements (kk_qadd_params); y may be a
   * or x (in place: the fused residual of ops-quant-conv.c) */
  void (*qadd_u8) (const uint8_t *a, const uint8_t *b, uint8_t *y, size_t n,
                   const kk_qadd_params *p);
  void (*qrescale_u8) (const uint8_t *x, uint8_t *y, size_t n, const kk_qadd_params *p);
} kk_kernels;

/* The table for an ISA. Returns NULL if the hardware cannot run it. An entry
 * a family has no version of for that ISA falls back to the next lower ISA. */
const kk_kernels *kk_kernels_get (kk_isa isa);

/* Whether every entry of a table is set (a test checks all of them are). */
bool kk_kernels_is_complete (const kk_kernels *table);

/* The scalar table with gemm_f32 and dwconv_f32_nhwc replaced by `isa`'s
 * gemm_f32_exact and dwconv_f32_nhwc_exact: the reference's results to the
 * bit, faster. The float steps of INT8 / INT4
 * plans run on it at the simd levels, so that those plans give the same
 * bits at every level. NULL when the CPU lacks the ISA. */
const kk_kernels *kk_kernels_get_exact (kk_isa isa);

/* The table a level uses (kk_kernels_get (kk_level_isa (level))). */
const kk_kernels *kk_kernels_for_level (kk_level level);

/* Frame-level helper built on a table: converts a whole image to gray rows
 * [row_begin, row_end). Returns false for a format it cannot convert. */
bool kk_gray_rows (const kk_kernels *k, const kk_image_view *src,
                   uint8_t *dst, size_t dst_stride, size_t row_begin, size_t row_end);

#ifdef __cplusplus
}
#endif
