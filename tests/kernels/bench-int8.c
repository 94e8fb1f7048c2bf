/* bench-int8.c — the int8 gemm and depthwise convolution against the float
 * ones of the same table, side by side in one run (not a test: it prints
 * timings and never fails on them).
 *
 *   build/tests/kernels/bench-int8 [runs]
 *
 * For each shape (BlazeFace-like 1x1 convolutions over a 64x64 map, im2col
 * ones, 5x5 and 3x3 depthwise) and each ISA the CPU runs, the variants fp32,
 * int8 (requantised u8 output) and the int8 scalar reference go round
 * robin, one call each per round, so a shared machine's noise lands on all
 * alike; it prints medians and int8 / fp32 as a ratio (< 1: int8 faster).
 * KESTREL_ISA lowers the best ISA as everywhere else.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kestrel-kernels.h"

static double
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (double *v, size_t n)
{
  qsort (v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct {
  const char *label;
  size_t m, n, k;
} Shape;

int
main (int argc, char **argv)
{
  const int runs = argc > 1 ? atoi (argv[1]) : 51;
  const Shape shapes[] = {
    { "1x1 conv 64x64, 24 -> 24", 64 * 64, 24, 24 },
    { "1x1 conv 64x64, 24 -> 28", 64 * 64, 28, 24 },
    { "1x1 conv 32x32, 48 -> 48", 32 * 32, 48, 48 },
    { "1x1 conv 64x64, 96 -> 96", 64 * 64, 96, 96 },
    { "1x1 conv 16x16, 96 -> 96", 16 * 16, 96, 96 },
    { "im2col 3x3 conv 64x64, 24 -> 24 (k 216)", 64 * 64, 24, 216 },
    { "im2col 5x5x3 conv 64x64 -> 24 (k 75)", 64 * 64, 24, 75 },
  };
  const kk_cpu_features *f = kk_cpu_features_get ();

  printf ("CPU: %s\nruns: %d (medians, ns per call; ratio = int8 / fp32)\n", f->brand, runs);
  if (runs < 1)
    return 2;

  for (int isa = KK_ISA_SCALAR + 1; isa < KK_ISA_COUNT; isa++)
    {
      const kk_kernels *t = kk_kernels_get ((kk_isa) isa);
      const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
      if (t == NULL || isa > (int) kk_isa_best ())
        continue;
      printf ("\n%s\n", kk_isa_name ((kk_isa) isa));
      printf ("  %-42s %12s %12s %12s %8s %8s\n", "shape (m x n x k)", "fp32", "int8",
              "int8 scalar", "ratio", "GMAC/s");

      for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        {
          const Shape *sh = &shapes[s];
          float *af = aligned_alloc (64, (sh->m * sh->k * 4 + 63) / 64 * 64);
          float *bf = malloc (sh->k * sh->n * 4);
          float *cf = aligned_alloc (64, (sh->m * sh->n * 4 + 63) / 64 * 64);
          uint8_t *aq = aligned_alloc (64, (sh->m * sh->k + 63) / 64 * 64);
          int8_t *wq = malloc (sh->k * sh->n);
          uint8_t *cq = aligned_alloc (64, (sh->m * sh->n + 63) / 64 * 64);
          int32_t *bias = malloc (sh->n * 4), *mult = malloc (sh->n * 4);
          float *biasf = malloc (sh->n * 4);
          uint32_t seed = 1;
          for (size_t i = 0; i < sh->m * sh->k; i++)
            {
              seed = seed * 1664525u + 1013904223u;
              aq[i] = (uint8_t) (seed >> 24);
              af[i] = (float) aq[i] / 255.0f;
            }
          for (size_t i = 0; i < sh->k * sh->n; i++)
            {
              seed = seed * 1664525u + 1013904223u;
              wq[i] = (int8_t) ((int) (seed >> 24) % 255 - 127);
              bf[i] = (float) wq[i] / 127.0f;
            }
          double *scales = malloc (sh->n * sizeof (double));
          for (size_t j = 0; j < sh->n; j++)
            {
              bias[j] = (int32_t) j * 100;
              biasf[j] = (float) j;
              scales[j] = 1e-4;
            }
          kk_requant rq = { .multiplier = mult, .zero_point = 3, .lo = 3, .hi = 255 };
          kk_requant_from_scales (scales, sh->n, mult, &rq.shift);
          kk_gemm_epilogue ep = { .bias = biasf, .lo = 0.0f, .hi = INFINITY };

          float *pf = aligned_alloc (64, (t->gemm_f32_packed_size (sh->k, sh->n) * 4 + 63) / 64 * 64);
          t->gemm_f32_pack_b (bf, sh->k, sh->n, false, pf);
          size_t qbytes = t->qgemm_u8s8_packed_size (sh->k, sh->n);
          void *pq = aligned_alloc (64, (qbytes + 63) / 64 * 64);
          t->qgemm_u8s8_pack (wq, sh->k, sh->n, false, bias, 7, pq);
          void *pr = aligned_alloc (64, (ref->qgemm_u8s8_packed_size (sh->k, sh->n) + 63) / 64 * 64);
          ref->qgemm_u8s8_pack (wq, sh->k, sh->n, false, bias, 7, pr);

          double *tf = malloc (runs * sizeof (double)), *tq = malloc (runs * sizeof (double));
          double *tr = malloc (runs * sizeof (double));
          for (int r = -3; r < runs; r++)
            {
              double t0 = now_ns ();
              t->gemm_f32 (sh->m, sh->n, sh->k, af, sh->k, pf, cf, sh->n, &ep);
              double t1 = now_ns ();
              t->qgemm_u8s8_requant (sh->m, sh->n, sh->k, aq, sh->k, pq, cq, sh->n, &rq);
              double t2 = now_ns ();
              ref->qgemm_u8s8_requant (sh->m, sh->n, sh->k, aq, sh->k, pr, cq, sh->n, &rq);
              double t3 = now_ns ();
              if (r >= 0)
                {
                  tf[r] = t1 - t0;
                  tq[r] = t2 - t1;
                  tr[r] = t3 - t2;
                }
            }
          double mf = median (tf, runs), mq = median (tq, runs), mr = median (tr, runs);
          char label[96];
          snprintf (label, sizeof label, "%s (%zux%zux%zu)", sh->label, sh->m, sh->n, sh->k);
          printf ("  %-42s %12.0f %12.0f %12.0f %8.3f %8.1f\n", label, mf, mq, mr, mq / mf,
                  (double) sh->m * sh->n * sh->k / mq);
          free (af), free (bf), free (cf), free (aq), free (wq), free (cq), free (bias);
          free (mult), free (biasf), free (scales), free (pf), free (pq), free (pr);
          free (tf), free (tq), free (tr);
        }
      printf ("  %-42s %12s %12s %12s %8s\n", "depthwise (h x w x C, kernel, stride)", "fp32", "int8",
              "int8 scalar", "ratio");
      const size_t dws[][5] = { { 64, 64, 24, 5, 1 }, { 64, 64, 24, 5, 2 }, { 32, 32, 48, 5, 1 },
                                { 16, 16, 96, 5, 1 }, { 16, 16, 96, 3, 1 }, { 8, 8, 96, 5, 1 } };
      for (size_t s = 0; s < sizeof dws / sizeof dws[0]; s++)
        {
          const size_t H = dws[s][0], W = dws[s][1], C = dws[s][2], K = dws[s][3], S = dws[s][4];
          const size_t pad = K / 2, OH = (H + 2 * pad - K) / S + 1, OW = (W + 2 * pad - K) / S + 1;
          float *inf = malloc (H * W * C * 4), *outf = malloc (OH * OW * C * 4);
          float *wf = malloc (K * K * C * 4), *bf = malloc (C * 4);
          uint8_t *inq = malloc (H * W * C), *outq = malloc (OH * OW * C);
          int8_t *wq = malloc (K * K * C);
          int32_t *bq = malloc (C * 4), *mq = malloc (C * 4);
          double *scales = malloc (C * sizeof (double));
          uint32_t seed = 7;
          for (size_t i = 0; i < H * W * C; i++)
            {
              seed = seed * 1664525u + 1013904223u;
              inq[i] = (uint8_t) (seed >> 24);
              inf[i] = (float) inq[i] / 255.0f;
            }
          for (size_t i = 0; i < K * K * C; i++)
            {
              seed = seed * 1664525u + 1013904223u;
              wq[i] = (int8_t) ((int) (seed >> 24) % 255 - 127);
              wf[i] = (float) wq[i] / 127.0f;
            }
          for (size_t c = 0; c < C; c++)
            {
              bq[c] = (int32_t) c;
              bf[c] = (float) c;
              scales[c] = 1e-3;
            }
          kk_dwconv_params pf = { .batch = 1, .in_h = H, .in_w = W, .channels = C, .out_h = OH,
                                  .out_w = OW, .kernel_h = K, .kernel_w = K, .stride_h = S,
                                  .stride_w = S, .dilation_h = 1, .dilation_w = 1, .pad_top = pad,
                                  .pad_left = pad, .weights = wf, .bias = bf, .lo = 0.0f,
                                  .hi = INFINITY };
          kk_qdwconv_params pq = { .batch = 1, .in_h = H, .in_w = W, .channels = C, .out_h = OH,
                                   .out_w = OW, .kernel_h = K, .kernel_w = K, .stride_h = S,
                                   .stride_w = S, .pad_top = pad, .pad_left = pad, .weights = wq,
                                   .bias = bq, .input_zero_point = 11,
                                   .requant = { .multiplier = mq, .zero_point = 5, .lo = 5, .hi = 255 } };
          kk_requant_from_scales (scales, C, mq, &pq.requant.shift);
          double *tf = malloc (runs * sizeof (double)), *tq = malloc (runs * sizeof (double));
          double *tr = malloc (runs * sizeof (double));
          for (int r = -3; r < runs; r++)
            {
              double t0 = now_ns ();
              t->dwconv_f32_nhwc (&pf, inf, outf, 0, OH);
              double t1 = now_ns ();
              t->qdwconv_u8_nhwc (&pq, inq, outq, 0, OH);
              double t2 = now_ns ();
              ref->qdwconv_u8_nhwc (&pq, inq, outq, 0, OH);
              double t3 = now_ns ();
              if (r >= 0)
                {
                  tf[r] = t1 - t0;
                  tq[r] = t2 - t1;
                  tr[r] = t3 - t2;
                }
            }
          double mf = median (tf, runs), mqt = median (tq, runs), mr = median (tr, runs);
          char label[96];
          snprintf (label, sizeof label, "%zux%zux%zu %zux%zu s%zu", H, W, C, K, K, S);
          printf ("  %-42s %12.0f %12.0f %12.0f %8.3f\n", label, mf, mqt, mr, mqt / mf);
          free (inf), free (outf), free (wf), free (bf), free (inq), free (outq), free (wq);
          free (bq), free (mq), free (scales), free (tf), free (tq), free (tr);
        }
    }
  return 0;
}
