/* qeltwise.h — the requantising add and rescale on u8 (contract and
 * arithmetic: kk_qadd_params in kestrel-kernels.h), one pair of functions
 * per instruction set. Every version widens to s32, multiplies with
 * pmulld/vmul (the products and their sum fit s32, see
 * KK_QADD_MAX_MULTIPLIER), adds 2^(shift - 1), shifts arithmetically and
 * clamps, which is kk_qadd_one (kk-requant.h) lane by lane; the tails call
 * kk_qadd_one itself.
 */
#pragma once

#include "kk-requant.h"

#define KK_QELTWISE_DECLARE(isa)                                                              \
  void kk_qadd_u8_##isa (const uint8_t *a, const uint8_t *b, uint8_t *y, size_t n,           \
                         const kk_qadd_params *p);                                            \
  void kk_qrescale_u8_##isa (const uint8_t *x, uint8_t *y, size_t n, const kk_qadd_params *p);

KK_QELTWISE_DECLARE (scalar)
#if KK_ARCH_X86
KK_QELTWISE_DECLARE (sse42)
KK_QELTWISE_DECLARE (avx2)
KK_QELTWISE_DECLARE (avx512)
#endif
#if KK_ARCH_ARM64
KK_QELTWISE_DECLARE (neon)
#endif

/* The scalar loops, also the SIMD versions' tails. */
static inline void
kk_qadd_u8_tail (const uint8_t *a, const uint8_t *b, uint8_t *y, size_t n, const kk_qadd_params *p)
{
  for (size_t i = 0; i < n; i++)
    y[i] = kk_qadd_one (a[i], (b[i] - p->zero_point_b) * p->multiplier_b, p);
}

static inline void
kk_qrescale_u8_tail (const uint8_t *x, uint8_t *y, size_t n, const kk_qadd_params *p)
{
  for (size_t i = 0; i < n; i++)
    y[i] = kk_qadd_one (x[i], 0, p);
}
