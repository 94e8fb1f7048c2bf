/* eltwise-avx2.c — 8 floats per vector, four vectors per step, masked tail.
 * VMINPS/VMAXPS with the bound first match the reference exactly (see
 * eltwise.h). Sigmoid, SiLU and softmax use the polynomial exp of
 * exp-avx2.h. */
#include "eltwise.h"
#include "exp-avx2.h"

#include <immintrin.h>

static inline __m256
clamp_ps (__m256 v, __m256 lo, __m256 hi)
{
  return _mm256_max_ps (lo, _mm256_min_ps (hi, v));
}

/* Lane mask for the first r (1..7) lanes: a sliding window over this table. */
static const int32_t tail_table[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };

static inline __m256i
tail_mask (size_t r)
{
  return _mm256_loadu_si256 ((const __m256i *) (tail_table + 8 - r));
}

void
kk_add_clamp_f32_avx2 (const float *a, const float *b, float *y, size_t n, float lo, float hi)
{
  const __m256 vlo = _mm256_set1_ps (lo), vhi = _mm256_set1_ps (hi);
  size_t i = 0;

  /* Four independent vectors per step: the loop is load/store bound, and this
   * keeps enough loads in flight to cover L2 latency on large tensors. */
  for (; i + 32 <= n; i += 32)
    {
      __m256 s0 = _mm256_add_ps (_mm256_loadu_ps (a + i), _mm256_loadu_ps (b + i));
      __m256 s1 = _mm256_add_ps (_mm256_loadu_ps (a + i + 8), _mm256_loadu_ps (b + i + 8));
      __m256 s2 = _mm256_add_ps (_mm256_loadu_ps (a + i + 16), _mm256_loadu_ps (b + i + 16));
      __m256 s3 = _mm256_add_ps (_mm256_loadu_ps (a + i + 24), _mm256_loadu_ps (b + i + 24));
      _mm256_storeu_ps (y + i, clamp_ps (s0, vlo, vhi));
      _mm256_storeu_ps (y + i + 8, clamp_ps (s1, vlo, vhi));
      _mm256_storeu_ps (y + i + 16, clamp_ps (s2, vlo, vhi));
      _mm256_storeu_ps (y + i + 24, clamp_ps (s3, vlo, vhi));
    }
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps (y + i, clamp_ps (_mm256_add_ps (_mm256_loadu_ps (a + i), _mm256_loadu_ps (b + i)),
                                       vlo, vhi));
  if (i < n)
    {
      /* Masked-off lanes are neither read (no fault past the end) nor written. */
      const __m256i m = tail_mask (n - i);
      __m256 s = _mm256_add_ps (_mm256_maskload_ps (a + i, m), _mm256_maskload_ps (b + i, m));
      _mm256_maskstore_ps (y + i, m, clamp_ps (s, vlo, vhi));
    }
}

void
kk_clamp_f32_avx2 (const float *x, float *y, size_t n, float lo, float hi)
{
  const __m256 vlo = _mm256_set1_ps (lo), vhi = _mm256_set1_ps (hi);
  size_t i = 0;

  for (; i + 32 <= n; i += 32)
    {
      __m256 v0 = _mm256_loadu_ps (x + i), v1 = _mm256_loadu_ps (x + i + 8);
      __m256 v2 = _mm256_loadu_ps (x + i + 16), v3 = _mm256_loadu_ps (x + i + 24);
      _mm256_storeu_ps (y + i, clamp_ps (v0, vlo, vhi));
      _mm256_storeu_ps (y + i + 8, clamp_ps (v1, vlo, vhi));
      _mm256_storeu_ps (y + i + 16, clamp_ps (v2, vlo, vhi));
      _mm256_storeu_ps (y + i + 24, clamp_ps (v3, vlo, vhi));
    }
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps (y + i, clamp_ps (_mm256_loadu_ps (x + i), vlo, vhi));
  if (i < n)
    {
      const __m256i m = tail_mask (n - i);
      _mm256_maskstore_ps (y + i, m, clamp_ps (_mm256_maskload_ps (x + i, m), vlo, vhi));
    }
}

/* ---- sigmoid and SiLU ---------------------------------------------------- */

static inline void
sigmoid_silu_avx2 (const float *x, float *y, size_t n, bool times_x)
{
  size_t i = 0;

  for (; i + 8 <= n; i += 8)
    {
      __m256 v = _mm256_loadu_ps (x + i), s = kk_sigmoid_ps_avx2 (v);
      _mm256_storeu_ps (y + i, times_x ? _mm256_mul_ps (v, s) : s);
    }
  if (i < n)
    {
      const __m256i m = tail_mask (n - i);
      __m256 v = _mm256_maskload_ps (x + i, m), s = kk_sigmoid_ps_avx2 (v);
      _mm256_maskstore_ps (y + i, m, times_x ? _mm256_mul_ps (v, s) : s);
    }
}

void
kk_sigmoid_f32_avx2 (const float *x, float *y, size_t n)
{
  sigmoid_silu_avx2 (x, y, n, false);
}

void
kk_silu_f32_avx2 (const float *x, float *y, size_t n)
{
  sigmoid_silu_avx2 (x, y, n, true);
}

/* Hard sigmoid / hard swish (see eltwise.h): exact, the reference's bits. */
static inline __m256
hard_gate_ps (__m256 v, __m256 va, __m256 vb, bool times_x)
{
  __m256 g = _mm256_add_ps (_mm256_mul_ps (va, v), vb);
  g = _mm256_max_ps (_mm256_setzero_ps (), _mm256_min_ps (_mm256_set1_ps (1.0f), g));
  return times_x ? _mm256_mul_ps (v, g) : g;
}

static inline void
hard_gate_avx2 (const float *x, float *y, size_t n, float alpha, float beta, bool times_x)
{
  const __m256 va = _mm256_set1_ps (alpha), vb = _mm256_set1_ps (beta);
  size_t i = 0;

  for (; i + 32 <= n; i += 32)
    {
      __m256 g0 = hard_gate_ps (_mm256_loadu_ps (x + i), va, vb, times_x);
      __m256 g1 = hard_gate_ps (_mm256_loadu_ps (x + i + 8), va, vb, times_x);
      __m256 g2 = hard_gate_ps (_mm256_loadu_ps (x + i + 16), va, vb, times_x);
      __m256 g3 = hard_gate_ps (_mm256_loadu_ps (x + i + 24), va, vb, times_x);
      _mm256_storeu_ps (y + i, g0);
      _mm256_storeu_ps (y + i + 8, g1);
      _mm256_storeu_ps (y + i + 16, g2);
      _mm256_storeu_ps (y + i + 24, g3);
    }
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps (y + i, hard_gate_ps (_mm256_loadu_ps (x + i), va, vb, times_x));
  if (i < n)
    {
      const __m256i m = tail_mask (n - i);
      _mm256_maskstore_ps (y + i, m, hard_gate_ps (_mm256_maskload_ps (x + i, m), va, vb, times_x));
    }
}

void
kk_hard_gate_f32_avx2 (const float *x, float *y, size_t n, float alpha, float beta, bool times_x)
{
  /* One loop per flag, so neither tests it per vector. */
  if (times_x)
    hard_gate_avx2 (x, y, n, alpha, beta, true);
  else
    hard_gate_avx2 (x, y, n, alpha, beta, false);
}

/* Softmax of a row (see eltwise.h): three passes over it, the maximum, the
 * exponentials stored and summed, the division. exp's argument x - max is
 * at most 0; below -87 it is raised to -87 (max (lo, t) keeps a NaN t). */
void
kk_softmax_f32_avx2 (const float *x, float *y, size_t n)
{
  const __m256 lo = _mm256_set1_ps (-87.0f);
  __m256 vmax = _mm256_set1_ps (-INFINITY), vsum0 = _mm256_setzero_ps (), vsum1 = _mm256_setzero_ps ();
  size_t i;
  float max, sum;

  if (n == 0)
    return;
  for (i = 0; i + 8 <= n; i += 8)
    vmax = _mm256_max_ps (vmax, _mm256_loadu_ps (x + i));
  max = -INFINITY;
  for (size_t j = i; j < n; j++)
    max = x[j] > max ? x[j] : max;
  {
    float lanes[8];
    _mm256_storeu_ps (lanes, vmax);
    for (int l = 0; l < 8; l++)
      max = lanes[l] > max ? lanes[l] : max;
  }

  const __m256 m = _mm256_set1_ps (max);
  for (i = 0; i + 16 <= n; i += 16)
    {
      __m256 e0 = kk_exp_ps_avx2 (_mm256_max_ps (lo, _mm256_sub_ps (_mm256_loadu_ps (x + i), m)));
      __m256 e1 = kk_exp_ps_avx2 (_mm256_max_ps (lo, _mm256_sub_ps (_mm256_loadu_ps (x + i + 8), m)));
      _mm256_storeu_ps (y + i, e0);
      _mm256_storeu_ps (y + i + 8, e1);
      vsum0 = _mm256_add_ps (vsum0, e0);
      vsum1 = _mm256_add_ps (vsum1, e1);
    }
  for (; i < n; i += 8)
    {
      const __m256i mask = tail_mask (n - i < 8 ? n - i : 8);
      __m256 e = kk_exp_ps_avx2 (_mm256_max_ps (lo, _mm256_sub_ps (_mm256_maskload_ps (x + i, mask), m)));
      _mm256_maskstore_ps (y + i, mask, e);
      vsum0 = _mm256_add_ps (vsum0, _mm256_and_ps (e, _mm256_castsi256_ps (mask)));
    }
  {
    float lanes[8];
    _mm256_storeu_ps (lanes, _mm256_add_ps (vsum0, vsum1));
    sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
  }

  const __m256 s = _mm256_set1_ps (sum);
  for (i = 0; i + 8 <= n; i += 8)
    _mm256_storeu_ps (y + i, _mm256_div_ps (_mm256_loadu_ps (y + i), s));
  for (; i < n; i++)
    y[i] /= sum;
}

#define VW 8
#define VT __m256
#define MT __m256i
#define LOAD(p) _mm256_loadu_ps (p)
#define STORE(p, v) _mm256_storeu_ps (p, v)
#define MLOAD(p, m) _mm256_maskload_ps (p, m)
#define MSTORE(p, m, v) _mm256_maskstore_ps (p, m, v)
#define TAIL(r) tail_mask (r)
#define SET1(x) _mm256_set1_ps (x)
#define ADD _mm256_add_ps
#define SUB _mm256_sub_ps
#define MUL _mm256_mul_ps
#define DIV _mm256_div_ps

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
kk_binary_f32_avx2 (kk_binary_op op, const float *a, size_t a_step, const float *b, size_t b_step,
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
