/* eltwise-scalar.c — reference elementwise kernels (the test oracle). */
#include "eltwise.h"

#include <math.h>

void
kk_add_clamp_f32_scalar (const float *a, const float *b, float *y, size_t n, float lo, float hi)
{
  for (size_t i = 0; i < n; i++)
    y[i] = kk_clamp_f32_1 (a[i] + b[i], lo, hi);
}

void
kk_sigmoid_f32_scalar (const float *x, float *y, size_t n)
{
  for (size_t i = 0; i < n; i++)
    y[i] = 1.0f / (1.0f + expf (-x[i]));
}

void
kk_silu_f32_scalar (const float *x, float *y, size_t n)
{
  for (size_t i = 0; i < n; i++)
    y[i] = x[i] * (1.0f / (1.0f + expf (-x[i])));
}

/* g = alpha * v + beta rounded twice (this file is built without FMA
 * contraction), clamped to [0, 1] keeping a NaN, times v for hard swish. */
void
kk_hard_gate_f32_scalar (const float *x, float *y, size_t n, float alpha, float beta, bool times_x)
{
  for (size_t i = 0; i < n; i++)
    {
      const float v = x[i];
      float g = alpha * v + beta;
      g = g > 1.0f ? 1.0f : g;
      g = g < 0.0f ? 0.0f : g;
      y[i] = times_x ? v * g : g;
    }
}

void
kk_softmax_f32_scalar (const float *x, float *y, size_t n)
{
  float max = -INFINITY, sum = 0.0f;

  /* Subtracting the maximum keeps expf () finite for large inputs; a NaN
   * input fails the comparison but still reaches the sum. */
  for (size_t i = 0; i < n; i++)
    max = x[i] > max ? x[i] : max;
  for (size_t i = 0; i < n; i++)
    {
      y[i] = expf (x[i] - max);
      sum += y[i];
    }
  for (size_t i = 0; i < n; i++)
    y[i] /= sum;
}

void
kk_clamp_f32_scalar (const float *x, float *y, size_t n, float lo, float hi)
{
  for (size_t i = 0; i < n; i++)
    y[i] = kk_clamp_f32_1 (x[i], lo, hi);
}

/* One loop per operand pattern, so each stays a plain loop. */
#define BINARY_LOOPS(EXPR)                                                           \
  do                                                                                 \
    {                                                                                \
      if (a_step == 1 && b_step == 1)                                                \
        for (size_t i = 0; i < n; i++)                                               \
          {                                                                          \
            const float x = a[i], z = b[i];                                          \
            y[i] = (EXPR);                                                           \
          }                                                                          \
      else if (a_step == 1)                                                          \
        for (size_t i = 0; i < n; i++)                                               \
          {                                                                          \
            const float x = a[i], z = b[0];                                          \
            y[i] = (EXPR);                                                           \
          }                                                                          \
      else if (b_step == 1)                                                          \
        for (size_t i = 0; i < n; i++)                                               \
          {                                                                          \
            const float x = a[0], z = b[i];                                          \
            y[i] = (EXPR);                                                           \
          }                                                                          \
      else                                                                           \
        for (size_t i = 0; i < n; i++)                                               \
          {                                                                          \
            const float x = a[0], z = b[0];                                          \
            y[i] = (EXPR);                                                           \
          }                                                                          \
    }                                                                                \
  while (0)

void
kk_binary_f32_scalar (kk_binary_op op, const float *a, size_t a_step, const float *b,
                      size_t b_step, float *y, size_t n)
{
  switch (op)
    {
    case KK_BINARY_ADD:
      BINARY_LOOPS (x + z);
      break;
    case KK_BINARY_SUB:
      BINARY_LOOPS (x - z);
      break;
    case KK_BINARY_MUL:
      BINARY_LOOPS (x * z);
      break;
    case KK_BINARY_DIV:
      BINARY_LOOPS (x / z);
      break;
    default:
      break;
    }
}
