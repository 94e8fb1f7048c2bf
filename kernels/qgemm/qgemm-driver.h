/* qgemm-driver.h — the part of every SIMD qgemm version that does not
 * depend on its instructions: the tile template (bias start, k loop, s32 or
 * requantising epilogue with the column tail), the tile table, the loop over
 * row strips and column blocks, and the four entry points of qgemm.h.
 *
 * Included once, at the end of its definitions, by each qgemm-<isa>.c, so
 * that the whole driver is compiled with that file's ISA flags (meson.build)
 * and the micro-kernel hooks below inline into it: a shared .c file would
 * either be built with the oldest ISA's flags or call the hooks through
 * pointers in the innermost loop. The including file defines:
 *
 *   QGEMM_ISA            suffix of the entry points (avx2 -> qgemm_u8s8_*_avx2)
 *   VL, G                qgemm.h's layout: columns per vector, k per group
 *   A_OFFSET             qgemm.h's a_offset for the packer (0, or 128 for sdot)
 *   STRIP_ROWS           rows of A per strip (the largest tile's rows)
 *   QGEMM_TILE_ROWS      { 0, rows of a 1-vector tile, of 2, of 3 }
 *   QGEMM_TILES(X)       X (MR, NV) for every tile shape to generate
 *   QGEMM_WIDENS         (optional) the version widens a strip of A to u16
 *                        in a stack buffer first (qgemm-avx2.c says why)
 *                        and multiplies pairs of 16-bit values, pmaddwd-
 *                        like; it defines CHUNK_PAIRS and the operations of
 *                        widen_rows () and qgemm_accumulate_widened () here:
 *                        qgemm_widen (the vector part of widening a row),
 *                        qgemm_wpair, qgemm_load_wpair, qgemm_broadcast_pair,
 *                        qgemm_madd
 *
 * and these types and inline functions:
 *
 *   qgemm_acc            VL s32 accumulators (one or more registers)
 *   qgemm_acc qgemm_load_bias (const int32_t *p)
 *   void qgemm_accumulate (mr, nv, k, lda, a, b, acc)  (without QGEMM_WIDENS):
 *                        adds rows a .. a + (mr - 1) * lda times the panel b
 *   qgemm_tail, qgemm_tail qgemm_tail_make (size_t cols): what a partial
 *                        vector's loads and stores need (a mask, a count),
 *                        made once per tile from the columns of its last
 *                        vector
 *   void qgemm_store_s32 (int32_t *p, qgemm_acc x, bool partial, qgemm_tail t)
 *   qgemm_rq_consts, void qgemm_rq_setup (qgemm_rq_consts *, const kk_requant *)
 *   qgemm_mult, qgemm_mult qgemm_load_mult (const int32_t *m, bool partial,
 *                                            qgemm_tail t)
 *   void qgemm_store_u8 (uint8_t *p, qgemm_acc x, const qgemm_mult *m,
 *                        const qgemm_rq_consts *rq, bool partial, qgemm_tail t)
 *
 * `partial` is true only for the matrix's last vector when n is not a
 * multiple of VL: then loads and stores touch just the columns t says.
 *
 * A version without masked loads and stores (SSE4.2, AVX2) defines
 * QGEMM_BUFFERED_TAIL instead, and its three hooks take whole vectors only:
 *
 *   void qgemm_store_s32 (int32_t *p, qgemm_acc x)
 *   qgemm_mult qgemm_load_mult (const int32_t *m)
 *   void qgemm_store_u8 (uint8_t *p, qgemm_acc x, const qgemm_mult *m,
 *                        const qgemm_rq_consts *rq)
 *
 * and the driver takes a partial vector through VL-wide stack buffers (the
 * multipliers zero-padded, the stores copied out for the columns present).
 */
#pragma once

#include <string.h>

#define QGEMM_CAT2(a, b) a##_##b
#define QGEMM_CAT(a, b) QGEMM_CAT2 (a, b)
#define QGEMM_FN(name) QGEMM_CAT (name, QGEMM_ISA)

typedef struct {
  size_t k, kgroups, lda, ldc;  /* kgroups: k rounded up to G, over G */
  bool s32;                     /* store the accumulators instead of requantising */
  const kk_requant *rq;
} qgemm_args;

#ifdef QGEMM_BUFFERED_TAIL
typedef size_t qgemm_tail;      /* the columns of a partial vector */

static inline qgemm_tail
qgemm_tail_make (size_t cols)
{
  return cols;
}

static inline void
qgemm_store_s32_cols (int32_t *p, qgemm_acc x, bool partial, qgemm_tail cols)
{
  int32_t values[VL];

  if (!partial)
    {
      qgemm_store_s32 (p, x);
      return;
    }
  qgemm_store_s32 (values, x);
  memcpy (p, values, cols * sizeof (int32_t));
}

static inline qgemm_mult
qgemm_load_mult_cols (const int32_t *mult, bool partial, qgemm_tail cols)
{
  int32_t values[VL] = { 0 };

  if (!partial)
    return qgemm_load_mult (mult);
  memcpy (values, mult, cols * sizeof (int32_t));
  return qgemm_load_mult (values);
}

static inline void
qgemm_store_u8_cols (uint8_t *p, qgemm_acc x, const qgemm_mult *m, const qgemm_rq_consts *rq,
                     bool partial, qgemm_tail cols)
{
  uint8_t bytes[VL];

  if (!partial)
    {
      qgemm_store_u8 (p, x, m, rq);
      return;
    }
  qgemm_store_u8 (bytes, x, m, rq);
  memcpy (p, bytes, cols);
}
#else
#define qgemm_store_s32_cols qgemm_store_s32
#define qgemm_load_mult_cols qgemm_load_mult
#define qgemm_store_u8_cols qgemm_store_u8
#endif

size_t
QGEMM_FN (qgemm_u8s8_packed_size) (size_t k, size_t n)
{
  return kk_qgemm_blocked_packed_size (k, n, VL, G);
}

void
QGEMM_FN (qgemm_u8s8_pack) (const int8_t *w, size_t k, size_t n, bool w_is_nk,
                            const int32_t *bias, uint8_t a_zero_point, void *packed)
{
  kk_qgemm_blocked_pack (w, k, n, w_is_nk, bias, a_zero_point, A_OFFSET, packed, VL, G);
}

#ifdef QGEMM_WIDENS
/* Widens k values [k0, k1) of `rows` rows of A into buf (row r at
 * buf + r * CHUNK_PAIRS pairs), zero-filling an odd last pair. */
static void
widen_rows (const uint8_t *a, size_t lda, size_t rows, size_t k0, size_t k1, uint32_t *buf)
{
  const size_t len = k1 - k0;
  for (size_t r = 0; r < rows; r++)
    {
      const uint8_t *src = a + r * lda + k0;
      uint16_t *dst = (uint16_t *) (buf + r * CHUNK_PAIRS);
      size_t x = qgemm_widen (dst, src, len);
      for (; x < len; x++)
        dst[x] = src[x];
      if (len & 1)
        dst[len] = 0;
    }
}

/* k in pairs of 16-bit values from the strip buffer (row r of the tile at
 * abuf + r * CHUNK_PAIRS), in chunks of CHUNK_PAIRS when k is larger than
 * the buffer: then each tile widens its own rows per chunk. */
static inline __attribute__ ((always_inline)) void
qgemm_accumulate_widened (const size_t mr, const size_t nv, const qgemm_args *args,
                          const uint8_t *a, uint32_t *abuf, const int8_t *b,
                          qgemm_acc acc[][3])
{
  const size_t kpairs = args->kgroups;

  for (size_t p0 = 0; p0 < kpairs; p0 += CHUNK_PAIRS)
    {
      const size_t pairs = kpairs - p0 < CHUNK_PAIRS ? kpairs - p0 : CHUNK_PAIRS;
      if (kpairs > CHUNK_PAIRS)
        {
          size_t k1 = G * (p0 + pairs) < args->k ? G * (p0 + pairs) : args->k;
          widen_rows (a, args->lda, mr, G * p0, k1, abuf);
        }
      const int8_t *bp = b + p0 * nv * VL * G;
      for (size_t p = 0; p < pairs; p++)
        {
          qgemm_wpair bv[3];
#pragma GCC unroll 3
          for (size_t v = 0; v < nv; v++)
            bv[v] = qgemm_load_wpair (bp + v * VL * G);
          bp += nv * VL * G;
#pragma GCC unroll 12
          for (size_t r = 0; r < mr; r++)
            {
              const qgemm_wpair ar = qgemm_broadcast_pair (abuf[r * CHUNK_PAIRS + p]);
#pragma GCC unroll 3
              for (size_t v = 0; v < nv; v++)
                acc[r][v] = qgemm_madd (acc[r][v], ar, bv[v]);
            }
        }
    }
}
#endif

/* One tile: mr rows x nv vectors of C, from bias_eff through the k loop to
 * the stores. mr and nv are constants in every instance below, so the loops
 * unroll and the accumulators stay in registers. */
static inline __attribute__ ((always_inline)) void
qgemm_tile (const size_t mr, const size_t nv, const qgemm_args *args, const uint8_t *a,
            uint32_t *abuf, const int8_t *b, const int32_t *bias_eff, void *c,
            size_t last_cols, const int32_t *mult)
{
  const size_t ldc = args->ldc;
  const bool partial = last_cols < VL;
  const qgemm_tail tail = qgemm_tail_make (last_cols);
  qgemm_acc acc[STRIP_ROWS][3];

#pragma GCC unroll 3
  for (size_t v = 0; v < nv; v++)
    {
      const qgemm_acc bias_v = qgemm_load_bias (bias_eff + v * VL);
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++)
        acc[r][v] = bias_v;
    }

#ifdef QGEMM_WIDENS
  qgemm_accumulate_widened (mr, nv, args, a, abuf, b, acc);
#else
  (void) abuf;
  qgemm_accumulate (mr, nv, args->k, args->lda, a, b, acc);
#endif

  if (args->s32)
    {
      int32_t *out = c;
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
        for (size_t v = 0; v < nv; v++)
          qgemm_store_s32_cols (out + r * ldc + v * VL, acc[r][v], partial && v == nv - 1, tail);
      return;
    }

  qgemm_rq_consts rq;
  qgemm_mult m[3];
  uint8_t *out = c;

  qgemm_rq_setup (&rq, args->rq);
#pragma GCC unroll 3
  for (size_t v = 0; v < nv; v++)
    m[v] = qgemm_load_mult_cols (mult + v * VL, partial && v == nv - 1, tail);
#pragma GCC unroll 12
  for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
    for (size_t v = 0; v < nv; v++)
      qgemm_store_u8_cols (out + r * ldc + v * VL, acc[r][v], &m[v], &rq, partial && v == nv - 1,
                           tail);
}

typedef void (*qgemm_tile_fn) (const qgemm_args *args, const uint8_t *a, uint32_t *abuf,
                               const int8_t *b, const int32_t *bias_eff, void *c,
                               size_t last_cols, const int32_t *mult);

/* One function per tile shape (named so in a profile), and the table of
 * them by [vectors][rows]. */
#define QGEMM_TILE_DEFINE(MR, NV)                                                          \
  static void QGEMM_FN (qgemm_tile_##MR##x##NV) (const qgemm_args *args, const uint8_t *a, \
                                                 uint32_t *abuf, const int8_t *b,          \
                                                 const int32_t *bias_eff, void *c,         \
                                                 size_t last_cols, const int32_t *mult)    \
  {                                                                                        \
    qgemm_tile (MR, NV, args, a, abuf, b, bias_eff, c, last_cols, mult);                   \
  }
#define QGEMM_TILE_ENTRY(MR, NV) [NV][MR] = QGEMM_FN (qgemm_tile_##MR##x##NV),

QGEMM_TILES (QGEMM_TILE_DEFINE)

static const size_t tile_rows[4] = QGEMM_TILE_ROWS;
static const qgemm_tile_fn tiles[4][STRIP_ROWS + 1] = { QGEMM_TILES (QGEMM_TILE_ENTRY) };

#undef QGEMM_TILE_DEFINE
#undef QGEMM_TILE_ENTRY

/* Strips of STRIP_ROWS rows; in each, the column blocks of 1, 2 or 3
 * vectors that the packer laid out (kk_gemm_block_vectors), each swept by
 * its tile shape, the strip's last rows by a shorter tile of the same
 * width. Only the matrix's last block has a column tail. */
static void
qgemm_run (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
           const void *packed, void *c, size_t ldc, size_t c_elem, const kk_requant *rq)
{
  if (m_count == 0 || n == 0)
    return;

  const size_t nv_total = (n + VL - 1) / VL, npad = nv_total * VL;
  const size_t kpad = kk_qgemm_round_up (k, G);
  const int32_t *bias_eff = packed;
  const int8_t *panels = (const int8_t *) packed + npad * sizeof (int32_t);
  const qgemm_args args = { .k = k, .kgroups = kpad / G, .lda = lda, .ldc = ldc,
                            .s32 = rq == NULL, .rq = rq };
#ifdef QGEMM_WIDENS
  const bool chunked = args.kgroups > CHUNK_PAIRS;
  _Alignas (64) uint32_t abuf[STRIP_ROWS * CHUNK_PAIRS];
#define QGEMM_ABUF_ROW(row) (abuf + (row) * CHUNK_PAIRS)
#else
#define QGEMM_ABUF_ROW(row) NULL
#endif

  for (size_t i0 = 0; i0 < m_count; i0 += STRIP_ROWS)
    {
      const size_t strip = m_count - i0 < STRIP_ROWS ? m_count - i0 : STRIP_ROWS;
#ifdef QGEMM_WIDENS
      if (!chunked)
        widen_rows (a + i0 * lda, lda, strip, 0, k, abuf);
#endif
      for (size_t v = 0; v < nv_total;)
        {
          const size_t bv = kk_gemm_block_vectors (nv_total - v);
          const size_t c0 = v * VL;
          const size_t last_cols = v + bv == nv_total ? n - (nv_total - 1) * VL : VL;
          const size_t mr = tile_rows[bv];
          for (size_t i = i0; i < i0 + strip; i += mr)
            {
              const size_t rows = i0 + strip - i < mr ? i0 + strip - i : mr;
              tiles[bv][rows] (&args, a + i * lda, QGEMM_ABUF_ROW (i - i0), panels + c0 * kpad,
                               bias_eff + c0, (uint8_t *) c + (i * ldc + c0) * c_elem, last_cols,
                               rq != NULL ? rq->multiplier + c0 : NULL);
            }
          v += bv;
        }
    }
#undef QGEMM_ABUF_ROW
}

void
QGEMM_FN (qgemm_u8s8_requant) (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
                               const void *packed, uint8_t *c, size_t ldc, const kk_requant *rq)
{
  qgemm_run (m_count, n, k, a, lda, packed, c, ldc, sizeof (uint8_t), rq);
}

void
QGEMM_FN (qgemm_u8s8_s32) (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
                           const void *packed, int32_t *c, size_t ldc)
{
  qgemm_run (m_count, n, k, a, lda, packed, c, ldc, sizeof (int32_t), NULL);
}

/* The INT4 entry points: the same tiles over W widened from nibbles. */
#include "qgemm-s4-driver.h"
