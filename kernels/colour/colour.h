/* colour.h — the colour family's per-ISA kernels (internal).
 *
 * Luma, ITU-R BT.601 in Q15 fixed point: the three weights add up to exactly
 * 1 << 15, so white stays 255 and the sum never needs more than 23 bits.
 *   Y = (9798 R + 19235 G + 3735 B + 16384) >> 15
 * Every version computes exactly this, so the tables are interchangeable and
 * the scalar one is the oracle. 19235 does not fit in a signed byte, which
 * rules out pmaddubsw; the x86 versions use pmaddwd on 16-bit lanes.
 */
#pragma once

#include "kk-internal.h"

#define KK_LUMA_R 9798u
#define KK_LUMA_G 19235u
#define KK_LUMA_B 3735u
#define KK_LUMA_ROUND 16384u
#define KK_LUMA_SHIFT 15

/* Shared by every version for its last few pixels, so tails cannot drift from
 * the reference. */
static inline uint8_t
kk_luma_u8 (unsigned r, unsigned g, unsigned b)
{
  return (uint8_t) ((KK_LUMA_R * r + KK_LUMA_G * g + KK_LUMA_B * b + KK_LUMA_ROUND) >> KK_LUMA_SHIFT);
}

void kk_gray_from_rgb8__scalar (const uint8_t *src, uint8_t *dst, size_t n);
void kk_gray_from_rgba8__scalar (const uint8_t *src, uint8_t *dst, size_t n);
void kk_gray_from_bgra8__scalar (const uint8_t *src, uint8_t *dst, size_t n);

#if KK_ARCH_X86
void kk_gray_from_rgb8__sse42 (const uint8_t *src, uint8_t *dst, size_t n);
void kk_gray_from_rgba8__sse42 (const uint8_t *src, uint8_t *dst, size_t n);
void kk_gray_from_bgra8__sse42 (const uint8_t *src, uint8_t *dst, size_t n);

void kk_gray_from_rgb8__avx2 (const uint8_t *src, uint8_t *dst, size_t n);
void kk_gray_from_rgba8__avx2 (const uint8_t *src, uint8_t *dst, size_t n);
void kk_gray_from_bgra8__avx2 (const uint8_t *src, uint8_t *dst, size_t n);

void kk_gray_from_rgb8__avx512 (const uint8_t *src, uint8_t *dst, size_t n);
void kk_gray_from_rgba8__avx512 (const uint8_t *src, uint8_t *dst, size_t n);
void kk_gray_from_bgra8__avx512 (const uint8_t *src, uint8_t *dst, size_t n);
#endif

#if KK_ARCH_ARM64
void kk_gray_from_rgb8__neon (const uint8_t *src, uint8_t *dst, size_t n);
void kk_gray_from_rgba8__neon (const uint8_t *src, uint8_t *dst, size_t n);
void kk_gray_from_bgra8__neon (const uint8_t *src, uint8_t *dst, size_t n);
#endif
