/* qgemm.h — u8 x s8 -> s32 gemm with packed weights and fused
 * requantisation (the contract: kk_kernels.qgemm_u8s8_* in
 * kestrel-kernels.h).
 *
 * Packed layout (every version, with its own VL columns per vector and G
 * k-values per group; the scalar reference uses G = 1 and VL = n, which
 * makes the panels plain [k][n]):
 *
 *   int32_t bias_eff[npad]       npad = n rounded up to VL, zeros past n
 *   int8_t  panels[kpad * npad]  kpad = k rounded up to G
 *
 * bias_eff[j] = bias[j] - (a_zero_point - a_offset) * sum_k W[k][j]: the
 * zero point's whole contribution, so the kernels multiply raw u8 by s8.
 * a_offset is 0, except where a version feeds the dot-product unit A ^ 0x80
 * (NEON sdot, a signed x signed product: A - 128 needs +128 * sum W back).
 * The columns are split into blocks of 1, 2 or 3 vectors exactly as the
 * float gemm does (kk_gemm_block_vectors); block [c0, c0 + w) is stored at
 * panels + c0 * kpad, one group after another, each group w * G bytes:
 *
 *   block[g * w * G + x * G + j] = W[g * G + j][c0 + x]   (0 outside k x n)
 *
 * so one vector load per group gives VL columns x G consecutive k, the
 * operand of a pairwise multiply-add (G = 2: pmaddwd on values widened to
 * 16 bits) or a 4-way dot product (G = 4: vpdpbusd, sdot). Zero weights in
 * the padding make the padded k and columns contribute nothing.
 *
 * Exactness: the s32 accumulators may wrap in the middle of a sum (the
 * bias_eff start can be near the s32 limit), but adds are modular and the
 * final value is inside s32 (kestrel-kernels.h bounds k and the bias), so
 * every order and grouping of the sum gives the same bits.
 */
#pragma once

#include "gemm/gemm.h"
#include "kk-requant.h"

/* The k range a SIMD version widens A over in one go (a stack buffer of
 * strip rows x KK_QGEMM_CHUNK_K 16-bit values); larger k runs in chunks. */
#define KK_QGEMM_CHUNK_K 1024

static inline size_t
kk_qgemm_round_up (size_t x, size_t to)
{
  return (x + to - 1) / to * to;
}

size_t kk_qgemm_blocked_packed_size (size_t k, size_t n, size_t vl, size_t g);
void kk_qgemm_blocked_pack (const int8_t *w, size_t k, size_t n, bool w_is_nk,
                            const int32_t *bias, uint8_t a_zero_point, int32_t a_offset,
                            void *packed, size_t vl, size_t g);

/* INT4 weights (kestrel-kernels.h, "INT4 weights"): the same panels as
 * above, each s8 byte a nibble, two per byte (panel byte p in byte p / 2,
 * the low nibble when p is even), and each block's multiplier and zero
 * point per column:
 *
 *   int32_t bias_eff[npad]              as above, from the widened W
 *   uint8_t m[kblocks][npad]            kblocks = kpad rounded up to 32, / 32
 *   uint8_t z[kblocks][npad]            (0 past n: those columns widen to 0)
 *   uint8_t nibbles[(kpad * npad + 1) / 2]
 *
 * A padded k of a real column holds q = z (it widens to 0). G divides 32,
 * so a group of k never straddles two blocks. qgemm-s4-driver.h widens one
 * column block at a time into the u8s8 panel and runs the u8s8 tiles. */
size_t kk_qgemm_s4_blocked_packed_size (size_t k, size_t n, size_t vl, size_t g);
void kk_qgemm_s4_blocked_pack (const uint8_t *q, const uint8_t *m, const uint8_t *z, size_t k,
                               size_t n, bool q_is_nk, const int32_t *bias, uint8_t a_zero_point,
                               int32_t a_offset, void *packed, size_t vl, size_t g);

static inline size_t
kk_qgemm_s4_kblocks (size_t kpad)
{
  return (kpad + KK_QGEMM_S4_BLOCK - 1) / KK_QGEMM_S4_BLOCK;
}

#define KK_QGEMM_DECLARE(isa)                                                                 \
  size_t qgemm_u8s8_packed_size_##isa (size_t k, size_t n);                                   \
  void qgemm_u8s8_pack_##isa (const int8_t *w, size_t k, size_t n, bool w_is_nk,              \
                              const int32_t *bias, uint8_t a_zero_point, void *packed);       \
  void qgemm_u8s8_requant_##isa (size_t m_count, size_t n, size_t k, const uint8_t *a,       \
                                 size_t lda, const void *packed, uint8_t *c, size_t ldc,      \
                                 const kk_requant *rq);                                       \
  void qgemm_u8s8_s32_##isa (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda, \
                             const void *packed, int32_t *c, size_t ldc);                  \
  size_t qgemm_u8s4_packed_size_##isa (size_t k, size_t n);                                   \
  void qgemm_u8s4_pack_##isa (const uint8_t *q, const uint8_t *m, const uint8_t *z, size_t k,  \
                              size_t n, bool q_is_nk, const int32_t *bias,                    \
                              uint8_t a_zero_point, void *packed);                            \
  void qgemm_u8s4_requant_##isa (size_t m_count, size_t n, size_t k, const uint8_t *a,       \
                                 size_t lda, const void *packed, uint8_t *c, size_t ldc,      \
                                 const kk_requant *rq);                                       \
  void qgemm_u8s4_s32_##isa (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda, \
                             const void *packed, int32_t *c, size_t ldc);

KK_QGEMM_DECLARE (scalar)
#if KK_ARCH_X86
KK_QGEMM_DECLARE (sse42)       /* G = 2, 4 columns: pmovsxbw + pmaddwd */
KK_QGEMM_DECLARE (avx2)        /* G = 2, 8 columns: vpmovsxbw + vpmaddwd */
KK_QGEMM_DECLARE (avx512bw)    /* G = 2, 16 columns: vpmovsxbw + vpmaddwd */
KK_QGEMM_DECLARE (avx512vnni)  /* G = 4, 16 columns: vpdpbusd */
#endif
#if KK_ARCH_ARM64
KK_QGEMM_DECLARE (neon)        /* G = 1, 8 columns: widen + smlal by lane */
KK_QGEMM_DECLARE (neondot)     /* G = 4, 4 columns: sdot by lane on A ^ 0x80 */
#endif
