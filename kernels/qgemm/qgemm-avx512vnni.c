/* qgemm-avx512vnni.c — AVX-512 VNNI int8 gemm: vpdpbusd multiplies 4 u8 of
 * A by 4 s8 of W and adds the four products into an s32 lane, without
 * saturation (the non-"s" form wraps, and the sum is exact anyway), so A
 * and W are used as they are, with no widening.
 *
 * Layout: qgemm.h with VL = 16, G = 4 (64 bytes of W per group, 16 columns
 * x 4 k). The A operand of a group is 4 consecutive bytes of a row,
 * broadcast straight from A; the last group of a k that is not a multiple
 * of 4 is assembled byte by byte so that nothing past the row is read.
 * Tiles are those of qgemm-avx512bw.c, the requantising epilogue is
 * qgemm-avx512.h and the driver qgemm-driver.h.
 */
#include "qgemm.h"

#include <immintrin.h>
#include <string.h>

#define QGEMM_ISA avx512vnni
#define VL 16
#define G 4
#define A_OFFSET 0

#include "qgemm-avx512.h"

static inline int32_t
load_word (const uint8_t *p)
{
  int32_t x;
  memcpy (&x, p, sizeof x);
  return x;
}

/* The A operand of group q of a row: 4 bytes, zero past k. */
static inline int32_t
a_group (const uint8_t *row, size_t q, size_t k)
{
  uint32_t x = 0;
  if (4 * q + 4 <= k)
    memcpy (&x, row + 4 * q, sizeof x);
  else
    for (size_t j = 0; 4 * q + j < k; j++)
      x |= (uint32_t) row[4 * q + j] << (8 * j);
  return (int32_t) x;
}

static inline __attribute__ ((always_inline)) void
qgemm_accumulate (const size_t mr, const size_t nv, size_t k, size_t lda, const uint8_t *a,
                  const int8_t *b, qgemm_acc acc[][3])
{
  /* Whole groups straight from A, then the partial one (if any). */
  const size_t full = k / G;
  const int8_t *bp = b;
#define GROUP_STEP(WORD_OF_ROW)                                                 \
  do                                                                            \
    {                                                                           \
      __m512i bv[3];                                                            \
      _Pragma ("GCC unroll 3")                                                  \
      for (size_t v = 0; v < nv; v++)                                           \
        bv[v] = _mm512_loadu_si512 (bp + v * VL * G);                           \
      bp += nv * VL * G;                                                        \
      _Pragma ("GCC unroll 12")                                                 \
      for (size_t r = 0; r < mr; r++)                                           \
        {                                                                       \
          const __m512i ar = _mm512_set1_epi32 (WORD_OF_ROW);                   \
          _Pragma ("GCC unroll 3")                                              \
          for (size_t v = 0; v < nv; v++)                                       \
            acc[r][v] = _mm512_dpbusd_epi32 (acc[r][v], ar, bv[v]);             \
        }                                                                       \
    }                                                                           \
  while (0)

  for (size_t q = 0; q < full; q++)
    GROUP_STEP (load_word (a + r * lda + G * q));
  if (full * G < k)
    GROUP_STEP (a_group (a + r * lda, full, k));
#undef GROUP_STEP
}

#include "qgemm-driver.h"
