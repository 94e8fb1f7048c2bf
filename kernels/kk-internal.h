/* kk-internal.h — shared by the kernel families, not installed.
 *
 * Each family folder (colour/, threshold/, ...) has a header declaring one
 * function per instruction set, named <op>_<types>_<isa>, and a
 * kk_<family>_fill() that puts the best version for an ISA into a table.
 */
#pragma once

#include "kestrel-kernels.h"

#include <math.h>
#include <stdbool.h>

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
#define KK_ARCH_X86 1
#else
#define KK_ARCH_X86 0
#endif

#if defined(__aarch64__)
#define KK_ARCH_ARM64 1
#else
#define KK_ARCH_ARM64 0
#endif

/* Does a table for `isa` may use code written for `level`? The x86 ISAs form
 * a ladder; NEON stands alone beside scalar. */
static inline bool
kk_isa_includes (kk_isa isa, kk_isa level)
{
  if (level == KK_ISA_SCALAR)
    return true;
  if (level == KK_ISA_NEON || isa == KK_ISA_NEON)
    return isa == level;
  return isa >= level;
}

/* Whether the AVX-512 table takes the VNNI (vpdpbusd) int8 kernels: the
 * CPU has them and KESTREL_NO_VNNI is unset or "0". KESTREL_NO_VNNI=1
 * forces the AVX-512BW versions (to test them on a VNNI machine, or to
 * avoid a broken unit); it must be set before the first kk_kernels_get. */
bool kk_cpu_use_avx512_vnni (void);

/* Window geometry shared by the sliding-window families (dwconv, pool).
 * Static inline, so each ISA file compiles it with its own flags. */

/* The taps [*lo, *hi) of a window that fall inside an input of n samples
 * when the window starts at `start` (negative inside the leading padding)
 * with k taps d apart. Empty (lo == hi) when the whole window is padding. */
static inline void
kk_window_tap_range (ptrdiff_t start, size_t k, size_t d, size_t n, size_t *lo, size_t *hi)
{
  size_t l = 0, h = 0;
  const ptrdiff_t room = (ptrdiff_t) n - 1 - start;  /* largest in-bounds offset */

  /* d is almost always 1; skip the divisions then. */
  if (start < 0)
    l = d == 1 ? (size_t) -start : ((size_t) -start + d - 1) / d;
  if (room >= 0)
    h = (d == 1 ? (size_t) room : (size_t) room / d) + 1;
  if (h > k)
    h = k;
  if (l > h)
    l = h;
  *lo = l;
  *hi = h;
}

/* The output columns [*lo, *hi) whose whole window (k taps d apart, stride
 * s, pad leading columns) lies inside an input of n columns. */
static inline void
kk_window_interior (size_t out_n, size_t n, size_t k, size_t s, size_t d, size_t pad,
                    size_t *lo, size_t *hi)
{
  const ptrdiff_t last = (ptrdiff_t) n - 1 + (ptrdiff_t) pad - (ptrdiff_t) ((k - 1) * d);
  size_t l = (pad + s - 1) / s;
  size_t h = last >= 0 ? (size_t) last / s + 1 : 0;

  if (l > out_n)
    l = out_n;
  if (h > out_n)
    h = out_n;
  if (h < l)
    h = l;
  *lo = l;
  *hi = h;
}

/* A gemm epilogue (kk_gemm_epilogue, NULL for none) unpacked once per call,
 * as the SIMD gemms (FP32 and FP16) keep it: the pointers and bounds, and
 * which parts apply. An infinite bound clamps nothing (the references keep
 * NaN as NaN too), so skipping it saves a vector op per result vector. */
typedef struct {
  const float *bias, *residual;
  size_t ldr;
  float lo, hi;
  kk_gemm_act act;
  bool has_bias, has_residual, has_lo, has_hi;
} kk_epilogue_parts;

static inline kk_epilogue_parts
kk_epilogue_unpack (const kk_gemm_epilogue *e)
{
  kk_epilogue_parts p = { .lo = -INFINITY, .hi = INFINITY };

  if (e != NULL)
    {
      p.bias = e->bias;
      p.residual = e->residual;
      p.ldr = e->ldr;
      p.lo = e->lo;
      p.hi = e->hi;
      p.act = e->act;
    }
  p.has_bias = p.bias != NULL;
  p.has_residual = p.residual != NULL;
  p.has_lo = !(isinf (p.lo) && p.lo < 0);
  p.has_hi = !(isinf (p.hi) && p.hi > 0);
  return p;
}

/* Family fill functions, called by dispatch.c for each ISA table. */
void kk_colour_fill (kk_kernels *table, kk_isa isa);
void kk_threshold_fill (kk_kernels *table, kk_isa isa);
void kk_normalize_fill (kk_kernels *table, kk_isa isa);
void kk_resize_fill (kk_kernels *table, kk_isa isa);
void kk_model_input_fill (kk_kernels *table, kk_isa isa);
void kk_convert_fill (kk_kernels *table, kk_isa isa);
void kk_gemm_fill (kk_kernels *table, kk_isa isa);
void kk_dwconv_fill (kk_kernels *table, kk_isa isa);
void kk_dwconv_f16_fill (kk_kernels *table, kk_isa isa);
void kk_pool_fill (kk_kernels *table, kk_isa isa);
void kk_eltwise_fill (kk_kernels *table, kk_isa isa);
void kk_qgemm_fill (kk_kernels *table, kk_isa isa);
void kk_qdwconv_fill (kk_kernels *table, kk_isa isa);
void kk_qpool_fill (kk_kernels *table, kk_isa isa);
void kk_qeltwise_fill (kk_kernels *table, kk_isa isa);
