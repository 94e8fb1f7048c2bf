/* qgemm-avx512bw.c — AVX-512BW int8 gemm for CPUs without VNNI: the AVX2
 * scheme (qgemm-avx2.c) on 16-column vectors. A and W widened to 16 bits,
 * vpmaddwd pairs (exact in s32, never saturating), vpmuldq for the 64-bit
 * requantisation products, masked loads and stores at the column edge.
 * Layout: qgemm.h with VL = 16, G = 2 (32 bytes of W per group). Tiles
 * 12 rows x 1 vector, 6 x 2, 4 x 3; the driver is qgemm-driver.h, and the
 * requantising epilogue qgemm-avx512.h, shared with the VNNI version.
 */
#include "qgemm.h"

#include <immintrin.h>
#include <string.h>

#define QGEMM_ISA avx512bw
#define VL 16
#define G 2
#define A_OFFSET 0
#define CHUNK_PAIRS (KK_QGEMM_CHUNK_K / G)
#define QGEMM_WIDENS

#include "qgemm-avx512.h"

typedef __m512i qgemm_wpair;    /* 16 columns x 2 k of W, or a broadcast A pair, as s16 */

/* Widens the first values of a row of A to u16 a vector at a time; returns
 * how many (the driver's widen_rows does the rest). */
static inline size_t
qgemm_widen (uint16_t *dst, const uint8_t *src, size_t len)
{
  size_t x = 0;
  for (; x + 32 <= len; x += 32)
    _mm512_storeu_si512 (dst + x, _mm512_cvtepu8_epi16 (_mm256_loadu_si256 ((const __m256i *) (src + x))));
  return x;
}

static inline qgemm_wpair
qgemm_load_wpair (const int8_t *p)
{
  return _mm512_cvtepi8_epi16 (_mm256_loadu_si256 ((const __m256i *) p));
}

static inline qgemm_wpair
qgemm_broadcast_pair (uint32_t a_pair)
{
  return _mm512_set1_epi32 ((int) a_pair);
}

static inline qgemm_acc
qgemm_madd (qgemm_acc acc, qgemm_wpair a, qgemm_wpair w)
{
  return _mm512_add_epi32 (acc, _mm512_madd_epi16 (a, w));
}

#include "qgemm-driver.h"
