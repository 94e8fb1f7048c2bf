/* test-gemm.c — cross-checks of the gemm family.
 *
 * 1. The scalar reference against a double-precision triple loop.
 * 2. Every other ISA the CPU runs against the scalar reference, over every m
 *    in 0..40 crossed with n and k sampled across 1..70 so that each tile
 *    height and width, each column tail of each vector width and k = 1 all
 *    occur; then BlazeFace's shapes and a large odd one. Each case packs B
 *    with the table under test (its own layout), from either order.
 *
 * The epilogue cycles through "none" (NULL), every subset of {bias,
 * residual, clamp lo, clamp hi}, and an in-place residual (residual == C);
 * FP32 cases also cycle through the activations (none, sigmoid, SiLU).
 * A and the residual have NaN in the padding between rows (lda, ldr > row
 * length) so a kernel reading past a row shows up in its results; C sits in
 * a buffer of guard bytes, and every byte outside its m x n cells (between
 * rows, before and after) must be left untouched. A, C and the residual
 * start at float-misaligned offsets from a 64-byte boundary, and so does the
 * packed B.
 *
 * The activation, at each ISA, is also checked to the bit against the
 * table's own sigmoid_f32 / silu_f32 applied to the unfused result
 * (act-bits).
 *
 * 3. The gemm with FP16 weights (gemm_f16_*) through the same cases, plus
 *    reductions deep enough that the SIMD versions cut k into chunks: the
 *    scalar reference against the double-precision loop on the
 *    half-rounded B (same tolerance), and every other ISA against the
 *    reference bit for bit (memcmp of C). That is stricter than the FP32
 *    rule below on purpose: the FP16 contract (kestrel-kernels.h) fixes the
 *    order and the rounding of every operation (fused multiply-adds in k
 *    order, as the reference's fmaf), so any difference is a bug, not
 *    rounding. (The SSE4.2 table has no FP16 version of its own: no FMA;
 *    it takes the reference.)
 *
 * Tolerance. Summing k products in float with or without FMA, in any
 * order, is within (k + 2) * u * S of the exact result, where
 * S = sum_k |a||b| + |bias| + |residual| and u = FLT_EPSILON / 2 (two more
 * roundings for bias and residual; the clamp never increases a difference).
 * Two such results are therefore within (k + 2) * FLT_EPSILON * S of each
 * other, and that per-element bound is what both checks use. A wrong, lost
 * or doubled product moves a result by about S / k, far outside it for the
 * sizes here.
 */
#include <float.h>
#include <math.h>

#include "kk-test-util.h"

typedef struct {
  size_t m, n, k;
  bool f16;          /* gemm_f16: B rounded to half, results exact against scalar */
  bool b_is_nk;
  bool null_epilogue;
  bool bias, residual, in_place;
  float lo, hi;
  kk_gemm_act act;   /* FP32 only: the FP16 gemm takes none */
  size_t lda, ldc, ldr;
  size_t a_mis, c_mis, r_mis, p_mis; /* misalignments, in floats */
} GemmCase;

/* Inputs of one case, shared by every table that runs it. */
typedef struct {
  GemmCase cs;
  KkTestBuf a_buf, r_buf;
  float *a, *b, *bias, *res; /* res: NULL unless cs.residual */
  float *b_used;             /* B as the kernels see it: b, or b rounded to half */
} GemmInputs;

static float
rand_value (GRand *rand)
{
  return (float) g_rand_double_range (rand, -1.0, 1.0);
}

static void
inputs_init (GemmInputs *in, const GemmCase *cs, GRand *rand)
{
  memset (in, 0, sizeof *in);
  in->cs = *cs;

  /* A: m rows of lda floats, NaN beyond column k. */
  in->a_buf = kk_test_buf_new ((cs->m * cs->lda + 16) * sizeof (float));
  in->a = kk_test_buf_at (&in->a_buf, cs->a_mis * sizeof (float));
  for (size_t i = 0; i < cs->m; i++)
    for (size_t x = 0; x < cs->lda; x++)
      in->a[i * cs->lda + x] = x < cs->k ? rand_value (rand) : NAN;

  /* B: exactly k x n (or n x k), as the planner hands it over. */
  in->b = g_new (float, cs->k * cs->n + 1);
  for (size_t i = 0; i < cs->k * cs->n; i++)
    in->b[i] = rand_value (rand);
  in->b_used = in->b;
  if (cs->f16)
    {
      const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
      g_autofree guint16 *h = g_new (guint16, cs->k * cs->n + 1);
      in->b_used = g_new (float, cs->k * cs->n + 1);
      ref->f32_to_f16 (in->b, h, cs->k * cs->n);
      ref->f16_to_f32 (h, in->b_used, cs->k * cs->n);
    }

  /* Bias followed by NaNs: a lane read past n must never reach C. */
  in->bias = g_new (float, cs->n + 16);
  for (size_t j = 0; j < cs->n + 16; j++)
    in->bias[j] = j < cs->n ? rand_value (rand) : NAN;

  if (cs->residual)
    {
      in->r_buf = kk_test_buf_new ((cs->m * cs->ldr + 16) * sizeof (float));
      in->res = kk_test_buf_at (&in->r_buf, cs->r_mis * sizeof (float));
      for (size_t i = 0; i < cs->m; i++)
        for (size_t x = 0; x < cs->ldr; x++)
          in->res[i * cs->ldr + x] = x < cs->n ? rand_value (rand) : NAN;
    }
}

static void
inputs_clear (GemmInputs *in)
{
  kk_test_buf_free (&in->a_buf);
  if (in->r_buf.base != NULL)
    kk_test_buf_free (&in->r_buf);
  if (in->b_used != in->b)
    g_free (in->b_used);
  g_free (in->b);
  g_free (in->bias);
}

/* The activation a case's epilogue asks for: FP32 cases only. */
static kk_gemm_act
case_act (const GemmCase *cs)
{
  return cs->f16 || cs->null_epilogue ? KK_GEMM_ACT_NONE : cs->act;
}

static char *
case_describe (const GemmCase *cs)
{
  g_autofree char *epilogue = NULL;
  if (cs->null_epilogue)
    epilogue = g_strdup ("NULL");
  else
    epilogue = g_strdup_printf ("{%s%s clamp [%g, %g]%s}", cs->bias ? " bias" : "",
                                cs->residual ? (cs->in_place ? " residual (in place)" : " residual") : "",
                                (double) cs->lo, (double) cs->hi,
                                case_act (cs) == KK_GEMM_ACT_SIGMOID ? " sigmoid"
                                : case_act (cs) == KK_GEMM_ACT_SILU ? " silu" : "");
  return g_strdup_printf ("%sm=%zu n=%zu k=%zu B=%s epilogue=%s lda=%zu ldc=%zu ldr=%zu "
                          "misalign (floats) a=%zu c=%zu r=%zu packed=%zu",
                          cs->f16 ? "FP16 weights: " : "", cs->m, cs->n, cs->k, cs->b_is_nk ? "[n][k]" : "[k][n]", epilogue,
                          cs->lda, cs->ldc, cs->ldr, cs->a_mis, cs->c_mis, cs->r_mis, cs->p_mis);
}

/* Runs one case through a table; returns C as a dense m x n array after
 * checking that nothing outside the m x n cells of C, nor past the packed
 * size of B, was written. */
static float *
run_case (const kk_kernels *t, const GemmInputs *in)
{
  const GemmCase *cs = &in->cs;

  /* Packed B in floats or halves; the misalignment is in those units. */
  size_t elem = cs->f16 ? sizeof (guint16) : sizeof (float);
  size_t packed_count = cs->f16 ? t->gemm_f16_packed_size (cs->k, cs->n)
                                : t->gemm_f32_packed_size (cs->k, cs->n);
  KkTestBuf p_buf = kk_test_buf_new ((packed_count + 2) * elem);
  void *packed = kk_test_buf_at (&p_buf, cs->p_mis * elem);
  if (cs->f16)
    t->gemm_f16_pack_b (in->b, cs->k, cs->n, cs->b_is_nk, packed);
  else
    t->gemm_f32_pack_b (in->b, cs->k, cs->n, cs->b_is_nk, packed);
  kk_test_assert_untouched_after ((guint8 *) packed + packed_count * elem, KK_TEST_GUARD);

  size_t c_floats = cs->m * cs->ldc;
  KkTestBuf c_buf = kk_test_buf_new ((c_floats + 16) * sizeof (float));
  float *c = kk_test_buf_at (&c_buf, cs->c_mis * sizeof (float));

  kk_gemm_epilogue ep = { .lo = cs->lo, .hi = cs->hi, .act = case_act (cs) };
  if (cs->bias)
    ep.bias = in->bias;
  if (cs->residual && cs->in_place)
    {
      /* C starts as the residual; the kernel adds to it where it stands. */
      for (size_t i = 0; i < cs->m; i++)
        memcpy (c + i * cs->ldc, in->res + i * cs->ldr, cs->n * sizeof (float));
      ep.residual = c;
      ep.ldr = cs->ldc;
    }
  else if (cs->residual)
    {
      ep.residual = in->res;
      ep.ldr = cs->ldr;
    }

  if (cs->f16)
    t->gemm_f16 (cs->m, cs->n, cs->k, in->a, cs->lda, packed, c, cs->ldc,
                 cs->null_epilogue ? NULL : &ep);
  else
    t->gemm_f32 (cs->m, cs->n, cs->k, in->a, cs->lda, packed, c, cs->ldc,
                 cs->null_epilogue ? NULL : &ep);

  /* Every byte of the C buffer that is not one of the m x n cells keeps
   * its guard value. */
  const guint8 *base = c_buf.base;
  size_t total = kk_test_buf_alloc_size (&c_buf);
  const guint8 *c_bytes = (const guint8 *) c;
  for (size_t off = 0; off < total; off++)
    {
      const guint8 *p = base + off;
      if (p >= c_bytes && p < c_bytes + c_floats * sizeof (float))
        {
          size_t idx = (size_t) (p - c_bytes) / sizeof (float);
          if (idx % cs->ldc < cs->n)
            continue;
        }
      if (*p != KK_TEST_GUARD_BYTE)
        {
          g_autofree char *what = case_describe (cs);
          g_error ("%s gemm wrote outside C (byte %td from C's start): %s", kk_isa_name (t->isa),
                   (ptrdiff_t) (p - c_bytes), what);
        }
    }

  float *out = g_new (float, cs->m * cs->n + 1);
  for (size_t i = 0; i < cs->m; i++)
    memcpy (out + i * cs->n, c + i * cs->ldc, cs->n * sizeof (float));

  kk_test_buf_free (&c_buf);
  kk_test_buf_free (&p_buf);
  return out;
}

static double
b_at (const GemmInputs *in, size_t kk, size_t j)
{
  const GemmCase *cs = &in->cs;
  return cs->b_is_nk ? in->b_used[j * cs->k + kk] : in->b_used[kk * cs->n + j];
}

/* S for element (i, j): the scale the tolerance is relative to. */
static double
magnitude (const GemmInputs *in, size_t i, size_t j)
{
  const GemmCase *cs = &in->cs;
  double s = 0.0;
  for (size_t kk = 0; kk < cs->k; kk++)
    s += fabs ((double) in->a[i * cs->lda + kk] * b_at (in, kk, j));
  if (cs->bias && !cs->null_epilogue)
    s += fabs ((double) in->bias[j]);
  if (cs->residual && !cs->null_epilogue)
    s += fabs ((double) in->res[i * cs->ldr + j]);
  return s;
}

static double
exact (const GemmInputs *in, size_t i, size_t j)
{
  const GemmCase *cs = &in->cs;
  double s = 0.0;
  for (size_t kk = 0; kk < cs->k; kk++)
    s += (double) in->a[i * cs->lda + kk] * b_at (in, kk, j);
  if (!cs->null_epilogue)
    {
      if (cs->bias)
        s += (double) in->bias[j];
      if (cs->residual)
        s += (double) in->res[i * cs->ldr + j];
      if (s < (double) cs->lo)
        s = (double) cs->lo;
      if (s > (double) cs->hi)
        s = (double) cs->hi;
    }
  if (case_act (cs) == KK_GEMM_ACT_SIGMOID)
    s = 1.0 / (1.0 + exp (-s));
  else if (case_act (cs) == KK_GEMM_ACT_SILU)
    s = s / (1.0 + exp (-s));
  return s;
}

/* want == NULL: compare with the double-precision loop. FP16 against the
 * reference: every bit. */
static void
compare (const char *who, const GemmInputs *in, const float *got, const float *want)
{
  const GemmCase *cs = &in->cs;
  if (cs->f16 && want != NULL)
    {
      for (size_t i = 0; i < cs->m * cs->n; i++)
        if (memcmp (&got[i], &want[i], sizeof (float)) != 0)
          {
            g_autofree char *what = case_describe (cs);
            g_error ("%s: C[%zu][%zu] = %a, the reference has %a (must be identical): %s", who,
                     i / cs->n, i % cs->n, (double) got[i], (double) want[i], what);
          }
      return;
    }
  for (size_t i = 0; i < cs->m; i++)
    for (size_t j = 0; j < cs->n; j++)
      {
        double g = (double) got[i * cs->n + j];
        double w = want != NULL ? (double) want[i * cs->n + j] : exact (in, i, j);
        double tol = (double) (cs->k + 2) * (double) FLT_EPSILON * magnitude (in, i, j);
        /* An activation scales a difference by at most its slope (SiLU's
         * is below 1.1, sigmoid's 1/4) and adds its own rounding: a few
         * ulp of the result (expf, or the polynomial exp of the SIMD
         * versions, within 2 ulp), or next to nothing where exp's argument
         * is clamped (|sigmoid| < 2e-38 there). */
        if (case_act (cs) != KK_GEMM_ACT_NONE)
          tol = 1.1 * tol + 8.0 * (double) FLT_EPSILON * MAX (fabs (g), fabs (w)) + 1e-30;
        if (!(fabs (g - w) <= tol))
          {
            g_autofree char *what = case_describe (cs);
            g_error ("%s: C[%zu][%zu] = %.9g, expected %.9g (tolerance %.3g): %s", who, i, j, g, w,
                     tol, what);
          }
      }
}

/* The n and k samples of the sweep: every value up to 17 (all tails of 4-,
 * 8- and 16-wide vectors, 1-, 2- and 3-vector blocks), then around the
 * multiples of 8 and 16 up to 70. */
static const size_t sweep_n[] = { 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17,
                                  20, 23, 24, 25, 28, 31, 32, 33, 36, 40, 42, 47, 48, 49, 56, 63,
                                  64, 65, 70 };
static const size_t sweep_k[] = { 1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 24, 31, 33, 48, 64, 70 };
#define SWEEP_M_MAX 40

/* Epilogue variant v of 18: 0 = NULL; 1..16 = subsets of bias (1),
 * residual (2), lo (4), hi (8); 17 = bias + in-place residual + ReLU6. */
#define EPILOGUE_VARIANTS 18

static void
case_set_epilogue (GemmCase *cs, unsigned variant, float lo, float hi)
{
  cs->null_epilogue = variant == 0;
  cs->lo = -INFINITY;
  cs->hi = INFINITY;
  if (variant == 0)
    return;
  if (variant == 17)
    {
      cs->bias = cs->residual = cs->in_place = true;
      cs->lo = 0.0f;
      cs->hi = 6.0f;
      return;
    }
  unsigned bits = variant - 1;
  cs->bias = (bits & 1) != 0;
  cs->residual = (bits & 2) != 0;
  if (bits & 4)
    cs->lo = lo;
  if (bits & 8)
    cs->hi = hi;
}

static GemmCase
sweep_case (size_t m, size_t ni, size_t ki)
{
  GemmCase cs = { .m = m, .n = sweep_n[ni], .k = sweep_k[ki] };
  unsigned variant = (unsigned) ((m + 3 * ni + 5 * ki) % EPILOGUE_VARIANTS);
  /* Bounds that cut through the spread of the sums (about sqrt(k) / 2). */
  float spread = 0.4f * sqrtf ((float) cs.k);
  case_set_epilogue (&cs, variant, -spread, spread * 0.7f);
  cs.b_is_nk = ((m + 3 * ni + 5 * ki) / EPILOGUE_VARIANTS + ni + ki) % 2 == 1;
  cs.act = (kk_gemm_act) ((m + 2 * ni + ki) % 3);
  cs.lda = cs.k + (m + ni) % 4;
  cs.ldc = cs.n + (m + ki) % 3;
  cs.ldr = cs.n + (m + ni + ki) % 5;
  cs.a_mis = (3 * m + ni) % 16;
  cs.c_mis = (m + 5 * ki) % 16;
  cs.r_mis = (m + ni + 7 * ki) % 16;
  cs.p_mis = (m + ki) % 2;
  return cs;
}

static void
check_case_vs_ref (const kk_kernels *ref, const kk_kernels *t, const GemmCase *cs, GRand *rand)
{
  GemmInputs in;
  inputs_init (&in, cs, rand);
  g_autofree float *want = run_case (ref, &in);
  g_autofree float *got = run_case (t, &in);
  compare (kk_isa_name (t->isa), &in, got, want);
  inputs_clear (&in);
}

static void
check_case_vs_double (const kk_kernels *ref, const GemmCase *cs, GRand *rand)
{
  GemmInputs in;
  inputs_init (&in, cs, rand);
  g_autofree float *got = run_case (ref, &in);
  compare ("scalar vs double", &in, got, NULL);
  inputs_clear (&in);
}

/* BlazeFace's gemm shapes (1x1 convolutions at 64x64 .. 8x8 pixels, the
 * 5x5x3 im2col'd stem, the heads) and a large shape with odd sizes. */
static const size_t shapes[][3] = {
  { 4096, 24, 24 }, { 4096, 24, 75 }, { 4096, 32, 24 }, { 1024, 28, 24 }, { 1024, 48, 48 },
  { 1024, 32, 28 }, { 256, 42, 36 },  { 256, 96, 96 },  { 256, 48, 42 },  { 64, 96, 96 },
  { 64, 88, 96 },   { 256, 2, 88 },   { 64, 6, 96 },    { 256, 32, 88 },  { 16, 128, 128 },
  { 517, 259, 300 },
  /* Deeper than one widened block of B holds in the FP16 versions (k > 170
   * at AVX-512, 341 at AVX2, 682 at SSE4.2): k in chunks, rows in panels. */
  { 101, 37, 700 },   { 53, 24, 400 },   { 7, 9, 1100 },
  /* YOLOX and PaddleOCR: the 3x3 stem on 12 channels, 3x3 convs to 24
   * channels, 1x1s to 16, 24, 32 and 200 columns. */
  { 416, 16, 108 },   { 160, 24, 864 },  { 480, 32, 16 },  { 480, 16, 32 },
  { 96, 200, 96 },
};

static GemmCase
shape_case (size_t s, unsigned variant)
{
  GemmCase cs = { .m = shapes[s][0], .n = shapes[s][1], .k = shapes[s][2] };
  float spread = 0.4f * sqrtf ((float) cs.k);
  case_set_epilogue (&cs, variant, -spread, spread * 0.7f);
  cs.b_is_nk = (variant + s) % 2 == 0;
  cs.act = (kk_gemm_act) ((variant + s) % 3);
  cs.lda = cs.k + variant % 3;
  cs.ldc = cs.n + (variant + 1) % 3;
  cs.ldr = cs.n + variant % 2;
  cs.a_mis = variant;
  cs.c_mis = (3 * variant + s) % 16;
  cs.r_mis = (variant + 5) % 16;
  return cs;
}

/* Per shape: no epilogue, bias + ReLU, bias + residual + ReLU6 in place,
 * and everything with finite bounds, in both B orders between them. */
static const unsigned shape_variants[] = { 0, 5, 17, 16 };

static void
test_scalar_vs_double (gconstpointer f16)
{
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  g_autoptr (GRand) rand = g_rand_new_with_seed (1);

  for (size_t m = 0; m <= 13; m++)
    for (size_t ni = 0; ni < G_N_ELEMENTS (sweep_n); ni++)
      for (size_t ki = 0; ki < G_N_ELEMENTS (sweep_k); ki++)
        {
          GemmCase cs = sweep_case (m, ni, ki);
          cs.f16 = GPOINTER_TO_INT (f16);
          check_case_vs_double (ref, &cs, rand);
        }
  for (size_t s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (size_t v = 0; v < G_N_ELEMENTS (shape_variants); v++)
      {
        GemmCase cs = shape_case (s, shape_variants[v]);
        cs.f16 = GPOINTER_TO_INT (f16);
        check_case_vs_double (ref, &cs, rand);
      }
}

/* data: GINT_TO_POINTER (f16) */
static void
sweep_isa (const kk_kernels *ref, const kk_kernels *t, gpointer data)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (2);
  for (size_t m = 0; m <= SWEEP_M_MAX; m++)
    for (size_t ni = 0; ni < G_N_ELEMENTS (sweep_n); ni++)
      for (size_t ki = 0; ki < G_N_ELEMENTS (sweep_k); ki++)
        {
          GemmCase cs = sweep_case (m, ni, ki);
          cs.f16 = GPOINTER_TO_INT (data);
          check_case_vs_ref (ref, t, &cs, rand);
        }
}

static void
test_isa_sweep (gconstpointer f16)
{
  kk_test_each_isa (sweep_isa, (gpointer) f16);
}

static void
shapes_isa (const kk_kernels *ref, const kk_kernels *t, gpointer data)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (3);
  for (size_t s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (size_t v = 0; v < G_N_ELEMENTS (shape_variants); v++)
      {
        GemmCase cs = shape_case (s, shape_variants[v]);
        cs.f16 = GPOINTER_TO_INT (data);
        check_case_vs_ref (ref, t, &cs, rand);
      }
}

static void
test_isa_shapes (gconstpointer f16)
{
  kk_test_each_isa (shapes_isa, (gpointer) f16);
}

/* The activation at each ISA is its table's sigmoid_f32 / silu_f32 on the
 * epilogue's result, to the bit, wherever it runs (AVX-512 in registers
 * before the store, the others over C after the call): so a fused
 * activation gives what the unfused Sigmoid / SiLU step would at that
 * level. Every tile height and column tail (n across vector widths, m past
 * a strip), every epilogue variant, both activations. */
static void
act_bits_isa (const kk_kernels *ref, const kk_kernels *t, gpointer data)
{
  static const size_t ms[] = { 1, 2, 5, 8, 11, 12, 13, 24, 25, 37 };
  static const size_t ns[] = { 1, 3, 7, 8, 9, 15, 16, 17, 23, 24, 31, 32, 33, 47, 48, 49, 50, 65, 200 };
  g_autoptr (GRand) rand = g_rand_new_with_seed (5);

  for (size_t mi = 0; mi < G_N_ELEMENTS (ms); mi++)
    for (size_t ni = 0; ni < G_N_ELEMENTS (ns); ni++)
      for (int a = KK_GEMM_ACT_SIGMOID; a <= KK_GEMM_ACT_SILU; a++)
        {
          const size_t k = 1 + (mi * 7 + ni * 5) % 40;
          GemmCase cs = { .m = ms[mi], .n = ns[ni], .k = k };
          /* Bounds wide enough that sigmoid's saturation is reached too. */
          float spread = 4.0f * sqrtf ((float) k);
          case_set_epilogue (&cs, 1 + (unsigned) (mi + 3 * ni + a) % (EPILOGUE_VARIANTS - 1), -spread,
                             spread * 0.7f);
          cs.b_is_nk = (mi + ni) % 2 == 1;
          cs.lda = k + mi % 3;
          cs.ldc = cs.n + ni % 3;
          cs.ldr = cs.n + (mi + ni) % 2;
          cs.a_mis = (mi + ni) % 16;
          cs.c_mis = (3 * mi + ni) % 16;
          cs.r_mis = (mi + 2 * ni) % 16;

          GemmInputs in;
          /* Sums in [-4k, 4k]: scale A so the activation sees its whole range. */
          inputs_init (&in, &cs, rand);
          for (size_t i = 0; i < cs.m * cs.lda; i++)
            in.a[i] *= 4.0f;
          in.cs.act = KK_GEMM_ACT_NONE;
          g_autofree float *want = run_case (t, &in);
          in.cs.act = (kk_gemm_act) a;
          g_autofree float *got = run_case (t, &in);
          (a == KK_GEMM_ACT_SILU ? t->silu_f32 : t->sigmoid_f32) (want, want, cs.m * cs.n);
          for (size_t i = 0; i < cs.m * cs.n; i++)
            if (memcmp (&got[i], &want[i], sizeof (float)) != 0)
              {
                g_autofree char *what = case_describe (&in.cs);
                g_error ("%s fused %s [%zu] = %.9g, the table's %s on the plain result %.9g: %s",
                         kk_isa_name (t->isa), a == KK_GEMM_ACT_SILU ? "silu" : "sigmoid", i,
                         (double) got[i], a == KK_GEMM_ACT_SILU ? "silu_f32" : "sigmoid_f32",
                         (double) want[i], what);
              }
          inputs_clear (&in);
        }
}

/* kk_kernels_get_exact: the reference's results to the bit at every ISA,
 * over the sweep and the shapes (every epilogue, the activations, the
 * residual in place, NaN past A's rows and the bias). */
static void
exact_bits_case (const kk_kernels *ref, const kk_kernels *exact, kk_isa isa, const GemmCase *cs, GRand *rand)
{
  GemmInputs in;
  inputs_init (&in, cs, rand);
  g_autofree float *want = run_case (ref, &in);
  g_autofree float *got = run_case (exact, &in);
  if (memcmp (want, got, cs->m * cs->n * sizeof (float)) != 0)
    {
      g_autofree char *what = case_describe (cs);
      g_error ("the exact gemm at %s differs from the reference: %s", kk_isa_name (isa), what);
    }
  inputs_clear (&in);
}

static void
exact_bits_isa (const kk_kernels *ref, const kk_kernels *t, gpointer data)
{
  const kk_kernels *exact = kk_kernels_get_exact (t->isa);
  g_autoptr (GRand) rand = g_rand_new_with_seed (12);

  g_assert_nonnull (exact);
  /* The scalar table's packing, the reference's layout. */
  g_assert_true (exact->gemm_f32_pack_b == ref->gemm_f32_pack_b);
  for (size_t m = 0; m <= SWEEP_M_MAX; m++)
    for (size_t ni = 0; ni < G_N_ELEMENTS (sweep_n); ni++)
      for (size_t ki = 0; ki < G_N_ELEMENTS (sweep_k); ki++)
        {
          GemmCase cs = sweep_case (m, ni, ki);
          exact_bits_case (ref, exact, t->isa, &cs, rand);
        }
  for (size_t s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (size_t v = 0; v < G_N_ELEMENTS (shape_variants); v++)
      {
        GemmCase cs = shape_case (s, shape_variants[v]);
        exact_bits_case (ref, exact, t->isa, &cs, rand);
      }
}

static void
test_exact_bits (void)
{
  kk_test_each_isa (exact_bits_isa, NULL);
}

static void
test_act_bits (void)
{
  act_bits_isa (NULL, kk_kernels_get (KK_ISA_SCALAR), NULL);
  kk_test_each_isa (act_bits_isa, NULL);
}

/* Packs B and runs the gemm of table t, FP32 or FP16 weights: the small
 * fixed cases below run through both. */
static void
table_gemm (const kk_kernels *t, bool f16, size_t m, size_t n, size_t k, const float *a,
            size_t lda, const float *b, bool b_is_nk, float *c, size_t ldc,
            const kk_gemm_epilogue *ep)
{
  size_t count = f16 ? t->gemm_f16_packed_size (k, n) : t->gemm_f32_packed_size (k, n);
  g_autofree float *packed = g_new0 (float, count + 1);
  if (f16)
    {
      t->gemm_f16_pack_b (b, k, n, b_is_nk, (guint16 *) packed);
      t->gemm_f16 (m, n, k, a, lda, (const guint16 *) packed, c, ldc, ep);
    }
  else
    {
      t->gemm_f32_pack_b (b, k, n, b_is_nk, packed);
      t->gemm_f32 (m, n, k, a, lda, packed, c, ldc, ep);
    }
}

/* k = 0 is a valid (if odd) product: C is the epilogue applied to zeros. */
static void
k_zero_table (const kk_kernels *t, bool f16)
{
  const size_t m = 5, n = 19;
  float bias[19], c[5 * 19];
  for (size_t j = 0; j < n; j++)
    bias[j] = (float) j - 9.0f;
  g_assert_cmpuint (f16 ? t->gemm_f16_packed_size (0, n) : t->gemm_f32_packed_size (0, n), ==, 0);
  kk_gemm_epilogue ep = { .bias = bias, .lo = -2.0f, .hi = INFINITY };
  table_gemm (t, f16, m, n, 0, bias /* never read */, 0, NULL, false, c, n, &ep);
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++)
      g_assert_cmpfloat (c[i * n + j], ==, bias[j] < -2.0f ? -2.0f : bias[j]);
}

static void
k_zero_isa (const kk_kernels *ref, const kk_kernels *t, gpointer data)
{
  k_zero_table (t, GPOINTER_TO_INT (data));
}

static void
test_k_zero (gconstpointer f16)
{
  k_zero_table (kk_kernels_get (KK_ISA_SCALAR), GPOINTER_TO_INT (f16));
  kk_test_each_isa (k_zero_isa, (gpointer) f16);
}

/* Every table has all the gemm entries; the reference is exact on small
 * integers (no rounding anywhere, halves included), which pins down the
 * orientation of both B orders and of the epilogue independently of any
 * tolerance. */
static void
exact_table (const kk_kernels *t, bool f16)
{
  const size_t m = 3, n = 5, k = 4;
  const float a[3 * 4] = { 1, 2, 3, 4, 0, -1, 0, 1, 2, 0, 0, 0 };
  const float b_kn[4 * 5] = { 1, 0, 0, 0, 1, 0, 1, 0, 0, 2, 0, 0, 1, 0, 3, 0, 0, 0, 1, 4 };
  const float bias[5] = { 10, 20, 30, 40, 50 };
  const float res[3 * 5] = { 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3 };
  /* A x B = [1 2 3 4 30; 0 -1 0 1 2; 2 0 0 0 2]; + bias + res, clamp [0, 45]. */
  const float want[3 * 5] = { 12, 23, 34, 45, 45, 12, 21, 32, 43, 45, 15, 23, 33, 43, 45 };
  float b_nk[5 * 4];
  for (size_t kk = 0; kk < k; kk++)
    for (size_t j = 0; j < n; j++)
      b_nk[j * k + kk] = b_kn[kk * n + j];

  g_assert_nonnull (t->gemm_f32_packed_size);
  g_assert_nonnull (t->gemm_f32_pack_b);
  g_assert_nonnull (t->gemm_f32);
  g_assert_nonnull (t->gemm_f16_packed_size);
  g_assert_nonnull (t->gemm_f16_pack_b);
  g_assert_nonnull (t->gemm_f16);
  for (int order = 0; order < 2; order++)
    {
      float c[3 * 5];
      kk_gemm_epilogue ep = { .bias = bias, .residual = res, .ldr = n, .lo = 0, .hi = 45 };
      table_gemm (t, f16, m, n, k, a, k, order ? b_nk : b_kn, order == 1, c, n, &ep);
      for (size_t i = 0; i < m * n; i++)
        g_assert_cmpfloat (c[i], ==, want[i]);
    }
}

static void
exact_isa (const kk_kernels *ref, const kk_kernels *t, gpointer data)
{
  exact_table (t, GPOINTER_TO_INT (data));
}

static void
test_exact (gconstpointer f16)
{
  exact_table (kk_kernels_get (KK_ISA_SCALAR), GPOINTER_TO_INT (f16));
  kk_test_each_isa (exact_isa, (gpointer) f16);
}

/* A NaN product stays NaN through an infinite bound and a clamp alike on
 * every table (maxps/minps would otherwise swallow it on one side). */
static void
nan_table (const kk_kernels *t, bool f16)
{
  const float a[2] = { NAN, 1.0f };
  const float b[1] = { 1.0f };
  float c[2];
  kk_gemm_epilogue relu6 = { .lo = 0.0f, .hi = 6.0f };
  table_gemm (t, f16, 2, 1, 1, a, 1, b, false, c, 1, &relu6);
  g_assert_true (isnan (c[0]));
  g_assert_cmpfloat (c[1], ==, 1.0f);
  kk_gemm_epilogue none = { .lo = -INFINITY, .hi = INFINITY };
  table_gemm (t, f16, 2, 1, 1, a, 1, b, false, c, 1, &none);
  g_assert_true (isnan (c[0]));
}

static void
nan_isa (const kk_kernels *ref, const kk_kernels *t, gpointer data)
{
  nan_table (t, GPOINTER_TO_INT (data));
}

static void
test_nan (gconstpointer f16)
{
  nan_table (kk_kernels_get (KK_ISA_SCALAR), GPOINTER_TO_INT (f16));
  kk_test_each_isa (nan_isa, (gpointer) f16);
}

/* gemm_f16_pack_b rounds each weight as the convert family's f32_to_f16
 * does (nearest, ties to even, overflow to Inf, subnormals kept), in every
 * table's layout: A = the identity copies B's rounded values into C. */
static void
f16_rounding_table (const kk_kernels *t)
{
  enum { K = 9, N = 11 };
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  const float special[] = {
    1.0f + 0x1p-11f,           /* tie: to even, 1 */
    1.0f + 3 * 0x1p-11f,       /* tie: to even, 1 + 2^-9 */
    65504.0f, 65519.0f, 65520.0f, -1e6f, /* largest half, below and at the Inf tie */
    0x1p-24f, 0x1p-25f, 3 * 0x1p-26f, 6e-5f, /* subnormal halves and the ties beside */
    0.1f, -0.3333333f, 1e-3f, INFINITY, -INFINITY,
  };
  float a[K * K], b[K * N], c[K * N], want[K * N];
  guint16 h[K * N];
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);

  for (size_t i = 0; i < K * K; i++)
    a[i] = i / K == i % K ? 1.0f : 0.0f;
  for (size_t i = 0; i < K * N; i++)
    b[i] = i < G_N_ELEMENTS (special) ? special[i] : (float) g_rand_double_range (rand, -4.0, 4.0);
  ref->f32_to_f16 (b, h, K * N);
  ref->f16_to_f32 (h, want, K * N);
  /* 0 * Inf is NaN: the identity trick works only for weights that stay
   * finite as halves, so the ones that become Inf are checked through a
   * 1 x 1 product each. */
  for (size_t i = 0; i < K * N; i++)
    if (isinf (want[i]))
      {
        float one = 1.0f, out;
        table_gemm (t, true, 1, 1, 1, &one, 1, &b[i], false, &out, 1, NULL);
        g_assert_cmpfloat (out, ==, want[i]);
        b[i] = want[i] = 0.0f;
      }
  table_gemm (t, true, K, N, K, a, K, b, false, c, N, NULL);
  for (size_t i = 0; i < K * N; i++)
    if (!(c[i] == want[i]))
      g_error ("%s: weight %.9g packed as %a, f32_to_f16 gives %a", kk_isa_name (t->isa),
               (double) b[i], (double) c[i], (double) want[i]);
}

static void
f16_rounding_isa (const kk_kernels *ref, const kk_kernels *t, gpointer data)
{
  f16_rounding_table (t);
}

static void
test_f16_rounding (void)
{
  f16_rounding_table (kk_kernels_get (KK_ISA_SCALAR));
  kk_test_each_isa (f16_rounding_isa, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (int f16 = 0; f16 < 2; f16++)
    {
      const char *family = f16 ? "gemm-f16" : "gemm";
      gconstpointer data = GINT_TO_POINTER (f16);
#define ADD(name, fn)                                                    \
  do                                                                     \
    {                                                                    \
      g_autofree char *path = g_strdup_printf ("/kernels/%s/" name, family); \
      g_test_add_data_func (path, data, fn);                             \
    }                                                                    \
  while (0)
      ADD ("exact", test_exact);
      ADD ("nan", test_nan);
      ADD ("k-zero", test_k_zero);
      ADD ("scalar-vs-double", test_scalar_vs_double);
      ADD ("isa-sweep", test_isa_sweep);
      ADD ("isa-shapes", test_isa_shapes);
#undef ADD
    }
  g_test_add_func ("/kernels/gemm-f16/pack-rounding", test_f16_rounding);
  g_test_add_func ("/kernels/gemm/act-bits", test_act_bits);
  g_test_add_func ("/kernels/gemm/exact-bits", test_exact_bits);
  return g_test_run ();
}
