/* eltwise-avx512.c — the AVX2 loops widened to 16 floats per vector, with an
 * opmask tail. VMINPS/VMAXPS zmm have the same operand-order NaN rule as the
 * narrower forms, so results match the reference exactly (see eltwise.h).
 * Sigmoid, SiLU and softmax use exp-avx512.h's polynomial exp. */
#include "eltwise.h"
#include "exp-avx512.h"

#include <immintrin.h>

static inline __m512
clamp_ps (__m512 v, __m512 lo, __m512 hi)
{
  return _mm512_max_ps (lo, _mm512_min_ps (hi, v));
}

/* The first r lanes, r in 1..15. */
static inline __mmask16
tail_mask (size_t r)
{
  return (__mmask16) ((1u << r) - 1u);
}

void
kk_add_clamp_f32_avx512 (const float *a, const float *b, float *y, size_t n, float lo, float hi)
{
  const __m512 vlo = _mm512_set1_ps (lo), vhi = _mm512_set1_ps (hi);
  size_t i = 0;

  for (; i + 64 <= n; i += 64)
    {
      __m512 s0 = _mm512_add_ps (_mm512_loadu_ps (a + i), _mm512_loadu_ps (b + i));
      __m512 s1 = _mm512_add_ps (_mm512_loadu_ps (a + i + 16), _mm512_loadu_ps (b + i + 16));
      __m512 s2 = _mm512_add_ps (_mm512_loadu_ps (a + i + 32), _mm512_loadu_ps (b + i + 32));
      __m512 s3 = _mm512_add_ps (_mm512_loadu_ps (a + i + 48), _mm512_loadu_ps (b + i + 48));
      _mm512_storeu_ps (y + i, clamp_ps (s0, vlo, vhi));
      _mm512_storeu_ps (y + i + 16, clamp_ps (s1, vlo, vhi));
      _mm512_storeu_ps (y + i + 32, clamp_ps (s2, vlo, vhi));
      _mm512_storeu_ps (y + i + 48, clamp_ps (s3, vlo, vhi));
    }
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps (y + i, clamp_ps (_mm512_add_ps (_mm512_loadu_ps (a + i), _mm512_loadu_ps (b + i)),
                                       vlo, vhi));
  if (i < n)
    {
      /* Masked-off lanes are not read (no fault) and not written. */
      const __mmask16 m = tail_mask (n - i);
      __m512 s = _mm512_add_ps (_mm512_maskz_loadu_ps (m, a + i), _mm512_maskz_loadu_ps (m, b + i));
      _mm512_mask_storeu_ps (y + i, m, clamp_ps (s, vlo, vhi));
    }
}

void
kk_clamp_f32_avx512 (const float *x, float *y, size_t n, float lo, float hi)
{
  const __m512 vlo = _mm512_set1_ps (lo), vhi = _mm512_set1_ps (hi);
  size_t i = 0;

  for (; i + 64 <= n; i += 64)
    {
      __m512 v0 = _mm512_loadu_ps (x + i), v1 = _mm512_loadu_ps (x + i + 16);
      __m512 v2 = _mm512_loadu_ps (x + i + 32), v3 = _mm512_loadu_ps (x + i + 48);
      _mm512_storeu_ps (y + i, clamp_ps (v0, vlo, vhi));
      _mm512_storeu_ps (y + i + 16, clamp_ps (v1, vlo, vhi));
      _mm512_storeu_ps (y + i + 32, clamp_ps (v2, vlo, vhi));
      _mm512_storeu_ps (y + i + 48, clamp_ps (v3, vlo, vhi));
    }
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps (y + i, clamp_ps (_mm512_loadu_ps (x + i), vlo, vhi));
  if (i < n)
    {
      const __mmask16 m = tail_mask (n - i);
      _mm512_mask_storeu_ps (y + i, m, clamp_ps (_mm512_maskz_loadu_ps (m, x + i), vlo, vhi));
    }
}

/* Sigmoid and SiLU: exp-avx512.h's, which is the AVX2 version lane for
 * lane, so both levels give the same bits; masked tail. */
static inline void
sigmoid_silu_avx512 (const float *x, float *y, size_t n, bool times_x)
{
  size_t i = 0;

  for (; i + 16 <= n; i += 16)
    {
      __m512 v = _mm512_loadu_ps (x + i), s = kk_sigmoid_ps_avx512 (v);
      _mm512_storeu_ps (y + i, times_x ? _mm512_mul_ps (v, s) : s);
    }
  if (i < n)
    {
      const __mmask16 m = tail_mask (n - i);
      __m512 v = _mm512_maskz_loadu_ps (m, x + i), s = kk_sigmoid_ps_avx512 (v);
      _mm512_mask_storeu_ps (y + i, m, times_x ? _mm512_mul_ps (v, s) : s);
    }
}

void
kk_sigmoid_f32_avx512 (const float *x, float *y, size_t n)
{
  sigmoid_silu_avx512 (x, y, n, false);
}

void
kk_silu_f32_avx512 (const float *x, float *y, size_t n)
{
  sigmoid_silu_avx512 (x, y, n, true);
}

/* Hard sigmoid / hard swish (see eltwise.h): exact, the reference's bits. */
static inline __m512
hard_gate_ps (__m512 v, __m512 va, __m512 vb, bool times_x)
{
  __m512 g = _mm512_add_ps (_mm512_mul_ps (va, v), vb);
  g = _mm512_max_ps (_mm512_setzero_ps (), _mm512_min_ps (_mm512_set1_ps (1.0f), g));
  return times_x ? _mm512_mul_ps (v, g) : g;
}

static inline void
hard_gate_avx512 (const float *x, float *y, size_t n, float alpha, float beta, bool times_x)
{
  const __m512 va = _mm512_set1_ps (alpha), vb = _mm512_set1_ps (beta);
  size_t i = 0;

  for (; i + 64 <= n; i += 64)
    {
      __m512 g0 = hard_gate_ps (_mm512_loadu_ps (x + i), va, vb, times_x);
      __m512 g1 = hard_gate_ps (_mm512_loadu_ps (x + i + 16), va, vb, times_x);
      __m512 g2 = hard_gate_ps (_mm512_loadu_ps (x + i + 32), va, vb, times_x);
      __m512 g3 = hard_gate_ps (_mm512_loadu_ps (x + i + 48), va, vb, times_x);
      _mm512_storeu_ps (y + i, g0);
      _mm512_storeu_ps (y + i + 16, g1);
      _mm512_storeu_ps (y + i + 32, g2);
      _mm512_storeu_ps (y + i + 48, g3);
    }
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps (y + i, hard_gate_ps (_mm512_loadu_ps (x + i), va, vb, times_x));
  if (i < n)
    {
      const __mmask16 m = tail_mask (n - i);
      _mm512_mask_storeu_ps (y + i, m, hard_gate_ps (_mm512_maskz_loadu_ps (m, x + i), va, vb, times_x));
    }
}

void
kk_hard_gate_f32_avx512 (const float *x, float *y, size_t n, float alpha, float beta, bool times_x)
{
  /* One loop per flag, so neither tests it per vector. */
  if (times_x)
    hard_gate_avx512 (x, y, n, alpha, beta, true);
  else
    hard_gate_avx512 (x, y, n, alpha, beta, false);
}

/* Softmax of a row (see eltwise.h and the AVX2 version): maximum, stored
 * and summed exponentials, division; masked tails. */
void
kk_softmax_f32_avx512 (const float *x, float *y, size_t n)
{
  const __m512 lo = _mm512_set1_ps (-87.0f);
  __m512 vmax = _mm512_set1_ps (-INFINITY), vsum0 = _mm512_setzero_ps (), vsum1 = _mm512_setzero_ps ();
  size_t i;
  float max = -INFINITY, sum;

  if (n == 0)
    return;
  for (i = 0; i + 16 <= n; i += 16)
    vmax = _mm512_max_ps (vmax, _mm512_loadu_ps (x + i));
  for (size_t j = i; j < n; j++)
    max = x[j] > max ? x[j] : max;
  {
    float lanes[16];
    _mm512_storeu_ps (lanes, vmax);
    for (int l = 0; l < 16; l++)
      max = lanes[l] > max ? lanes[l] : max;
  }

  const __m512 m = _mm512_set1_ps (max);
  for (i = 0; i + 32 <= n; i += 32)
    {
      __m512 e0 = kk_exp_ps_avx512 (_mm512_max_ps (lo, _mm512_sub_ps (_mm512_loadu_ps (x + i), m)));
      __m512 e1 = kk_exp_ps_avx512 (_mm512_max_ps (lo, _mm512_sub_ps (_mm512_loadu_ps (x + i + 16), m)));
      _mm512_storeu_ps (y + i, e0);
      _mm512_storeu_ps (y + i + 16, e1);
      vsum0 = _mm512_add_ps (vsum0, e0);
      vsum1 = _mm512_add_ps (vsum1, e1);
    }
  for (; i < n; i += 16)
    {
      const __mmask16 mask = n - i < 16 ? tail_mask (n - i) : (__mmask16) 0xFFFF;
      __m512 e = kk_exp_ps_avx512 (_mm512_max_ps (lo, _mm512_sub_ps (_mm512_maskz_loadu_ps (mask, x + i), m)));
      _mm512_mask_storeu_ps (y + i, mask, e);
      vsum0 = _mm512_mask_add_ps (vsum0, mask, vsum0, e);
    }
  {
    float lanes[16];
    _mm512_storeu_ps (lanes, _mm512_add_ps (vsum0, vsum1));
    for (int w = 8; w >= 1; w /= 2)
      for (int l = 0; l < w; l++)
        lanes[l] += lanes[l + w];
    sum = lanes[0];
  }

  const __m512 s = _mm512_set1_ps (sum);
  for (i = 0; i + 16 <= n; i += 16)
    _mm512_storeu_ps (y + i, _mm512_div_ps (_mm512_loadu_ps (y + i), s));
  if (i < n)
    {
      const __mmask16 mask = tail_mask (n - i);
      _mm512_mask_storeu_ps (y + i, mask, _mm512_div_ps (_mm512_maskz_loadu_ps (mask, y + i), s));
    }
}

#define VW 16
#define VT __m512
#define MT __mmask16
#define LOAD(p) _mm512_loadu_ps (p)
#define STORE(p, v) _mm512_storeu_ps (p, v)
#define MLOAD(p, m) _mm512_maskz_loadu_ps (m, p)
#define MSTORE(p, m, v) _mm512_mask_storeu_ps (p, m, v)
#define TAIL(r) tail_mask (r)
#define SET1(x) _mm512_set1_ps (x)
#define ADD _mm512_add_ps
#define SUB _mm512_sub_ps
#define MUL _mm512_mul_ps
#define DIV _mm512_div_ps

/* binary_f32: VW floats per vector, four vectors per step, masked tail. A
 * single-value operand is broadcast once. */
#define BINARY_BODY(OPV)                                                             \
  do                                                                                 \
    {                                                                                \
      size_t i = 0;                                                                  \
      if (a_step == 1 && b_step == 1)                                                \
        {                                                                            \
          for (; i + 4 * VW <= n; i += 4 * VW)                                       \
            {                                                                        \
              VT r0 = OPV (LOAD (a + i), LOAD (b + i));                              \
              VT r1 = OPV (LOAD (a + i + VW), LOAD (b + i + VW));                    \
              VT r2 = OPV (LOAD (a + i + 2 * VW), LOAD (b + i + 2 * VW));            \
              VT r3 = OPV (LOAD (a + i + 3 * VW), LOAD (b + i + 3 * VW));            \
              STORE (y + i, r0);                                                     \
              STORE (y + i + VW, r1);                                                \
              STORE (y + i + 2 * VW, r2);                                            \
              STORE (y + i + 3 * VW, r3);                                            \
            }                                                                        \
          for (; i + VW <= n; i += VW)                                               \
            STORE (y + i, OPV (LOAD (a + i), LOAD (b + i)));                         \
          if (i < n)                                                                 \
            {                                                                        \
              MT m = TAIL (n - i);                                                   \
              MSTORE (y + i, m, OPV (MLOAD (a + i, m), MLOAD (b + i, m)));           \
            }                                                                        \
        }                                                                            \
      else if (a_step == 1)                                                          \
        {                                                                            \
          const VT vb = SET1 (b[0]);                                                 \
          for (; i + 4 * VW <= n; i += 4 * VW)                                       \
            {                                                                        \
              VT r0 = OPV (LOAD (a + i), vb);                                        \
              VT r1 = OPV (LOAD (a + i + VW), vb);                                   \
              VT r2 = OPV (LOAD (a + i + 2 * VW), vb);                               \
              VT r3 = OPV (LOAD (a + i + 3 * VW), vb);                               \
              STORE (y + i, r0);                                                     \
              STORE (y + i + VW, r1);                                                \
              STORE (y + i + 2 * VW, r2);                                            \
              STORE (y + i + 3 * VW, r3);                                            \
            }                                                                        \
          for (; i + VW <= n; i += VW)                                               \
            STORE (y + i, OPV (LOAD (a + i), vb));                                   \
          if (i < n)                                                                 \
            {                                                                        \
              MT m = TAIL (n - i);                                                   \
              MSTORE (y + i, m, OPV (MLOAD (a + i, m), vb));                         \
            }                                                                        \
        }                                                                            \
      else if (b_step == 1)                                                          \
        {                                                                            \
          const VT va = SET1 (a[0]);                                                 \
          for (; i + 4 * VW <= n; i += 4 * VW)                                       \
            {                                                                        \
              VT r0 = OPV (va, LOAD (b + i));                                        \
              VT r1 = OPV (va, LOAD (b + i + VW));                                   \
              VT r2 = OPV (va, LOAD (b + i + 2 * VW));                               \
              VT r3 = OPV (va, LOAD (b + i + 3 * VW));                               \
              STORE (y + i, r0);                                                     \
              STORE (y + i + VW, r1);                                                \
              STORE (y + i + 2 * VW, r2);                                            \
              STORE (y + i + 3 * VW, r3);                                            \
            }                                                                        \
          for (; i + VW <= n; i += VW)                                               \
            STORE (y + i, OPV (va, LOAD (b + i)));                                   \
          if (i < n)                                                                 \
            {                                                                        \
              MT m = TAIL (n - i);                                                   \
              MSTORE (y + i, m, OPV (va, MLOAD (b + i, m)));                         \
            }                                                                        \
        }                                                                            \
      else                                                                           \
        {                                                                            \
          const VT v = OPV (SET1 (a[0]), SET1 (b[0]));                               \
          for (; i + VW <= n; i += VW)                                               \
            STORE (y + i, v);                                                        \
          if (i < n)                                                                 \
            MSTORE (y + i, TAIL (n - i), v);                                         \
        }                                                                            \
    }                                                                                \
  while (0)

void
kk_binary_f32_avx512 (kk_binary_op op, const float *a, size_t a_step, const float *b, size_t b_step,
                   float *y, size_t n)
{
  switch (op)
    {
    case KK_BINARY_ADD:
      BINARY_BODY (ADD);
      break;
    case KK_BINARY_SUB:
      BINARY_BODY (SUB);
      break;
    case KK_BINARY_MUL:
      BINARY_BODY (MUL);
      break;
    case KK_BINARY_DIV:
      BINARY_BODY (DIV);
      break;
    default:
      break;
    }
}
