/* threshold.h — the threshold family's per-ISA kernels (internal).
 *
 * dst[i] = src[i] > thresh ? maxval : 0. Every version reads a chunk before
 * writing the same chunk, so src == dst (in place) works; partially
 * overlapping buffers do not.
 */
#pragma once

#include "kk-internal.h"

void kk_threshold_u8__scalar (const uint8_t *src, uint8_t *dst, size_t n, uint8_t thresh, uint8_t maxval);

#if KK_ARCH_X86
void kk_threshold_u8__sse42 (const uint8_t *src, uint8_t *dst, size_t n, uint8_t thresh, uint8_t maxval);
void kk_threshold_u8__avx2 (const uint8_t *src, uint8_t *dst, size_t n, uint8_t thresh, uint8_t maxval);
void kk_threshold_u8__avx512 (const uint8_t *src, uint8_t *dst, size_t n, uint8_t thresh, uint8_t maxval);
#endif

#if KK_ARCH_ARM64
void kk_threshold_u8__neon (const uint8_t *src, uint8_t *dst, size_t n, uint8_t thresh, uint8_t maxval);
#endif
