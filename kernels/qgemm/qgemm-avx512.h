/* qgemm-avx512.h — what the two AVX-512 qgemm versions (BW and VNNI) share
 * besides qgemm-driver.h: 16 s32 columns per zmm, masked loads and stores
 * at the column tail, and the requantising epilogue (vpmuldq on the even
 * and odd lanes for the 64-bit products, high dwords shifted by shift - 32
 * after adding 2^(shift - 33): the reference's rounding, qgemm-avx2.c).
 * Included by each after it defines VL; compiled with its flags. The
 * tiles (qgemm-driver.h): 12 rows x 1 vector, 6 x 2, 4 x 3, 12 to 18
 * accumulators of the 32 zmm registers. */
#pragma once

#define STRIP_ROWS 12
#define QGEMM_TILE_ROWS { 0, 12, 6, 4 }
#define QGEMM_TILES(X)                                                                      \
  X (1, 1) X (2, 1) X (3, 1) X (4, 1) X (5, 1) X (6, 1) X (7, 1) X (8, 1) X (9, 1) X (10, 1) \
  X (11, 1) X (12, 1)                                                                       \
  X (1, 2) X (2, 2) X (3, 2) X (4, 2) X (5, 2) X (6, 2)                                     \
  X (1, 3) X (2, 3) X (3, 3) X (4, 3)

typedef __m512i qgemm_acc;

typedef struct {
  __m512i rnd, zp, lo, hi;
  __m128i count;
} qgemm_rq_consts;

typedef struct {
  __m512i m, m_odd;             /* m_odd: the odd lanes' multipliers in the even positions */
} qgemm_mult;

typedef __mmask16 qgemm_tail;

static inline qgemm_tail
qgemm_tail_make (size_t cols)
{
  return (__mmask16) ((1u << cols) - 1u);
}

static inline qgemm_acc
qgemm_load_bias (const int32_t *p)
{
  return _mm512_loadu_si512 (p);
}

static inline void
qgemm_store_s32 (int32_t *p, qgemm_acc x, bool partial, qgemm_tail t)
{
  if (partial)
    _mm512_mask_storeu_epi32 (p, t, x);
  else
    _mm512_storeu_si512 (p, x);
}

static inline void
qgemm_rq_setup (qgemm_rq_consts *k, const kk_requant *rq)
{
  k->rnd = _mm512_set1_epi32 ((int32_t) (1u << (rq->shift - 33)));
  k->count = _mm_cvtsi32_si128 ((int) (rq->shift - 32));
  k->zp = _mm512_set1_epi32 (rq->zero_point);
  k->lo = _mm512_set1_epi32 (rq->lo);
  k->hi = _mm512_set1_epi32 (rq->hi);
}

static inline qgemm_mult
qgemm_load_mult (const int32_t *mult, bool partial, qgemm_tail t)
{
  qgemm_mult m;
  m.m = partial ? _mm512_maskz_loadu_epi32 (t, mult) : _mm512_loadu_si512 (mult);
  m.m_odd = _mm512_srli_epi64 (m.m, 32);
  return m;
}

static inline void
qgemm_store_u8 (uint8_t *p, qgemm_acc acc, const qgemm_mult *m, const qgemm_rq_consts *k,
                bool partial, qgemm_tail t)
{
  __m512i even = _mm512_mul_epi32 (acc, m->m);
  __m512i odd = _mm512_mul_epi32 (_mm512_srli_epi64 (acc, 32), m->m_odd);
  __m512i high = _mm512_mask_blend_epi32 (0xAAAA, _mm512_srli_epi64 (even, 32), odd);
  __m512i x = _mm512_sra_epi32 (_mm512_add_epi32 (high, k->rnd), k->count);
  x = _mm512_min_epi32 (_mm512_max_epi32 (_mm512_add_epi32 (x, k->zp), k->lo), k->hi);
  /* 0..255 now: truncating to bytes is exact */
  __m128i bytes = _mm512_cvtepi32_epi8 (x);
  if (partial)
    _mm_mask_storeu_epi8 (p, t, bytes);
  else
    _mm_storeu_si128 ((__m128i *) p, bytes);
}
