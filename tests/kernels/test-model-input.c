/* test-model-input.c — the fused frame -> tensor kernels.
 *
 * - The scalar reference against a straightforward double-precision
 *   implementation written here from the definition (bilinear, half-pixel
 *   centres, clamped edges, letterbox rectangle, exact weights): within
 *   2e-6 of the largest possible |output| for float rounding, plus what the
 *   reference's 15-bit fixed-point horizontal weights may cost:
 *   0.5 / 32767 of a weight on a difference of at most 255 levels, times
 *   the largest |scale| (0.0039 of a level; 3.1e-5 absolute for a [-1, 1]
 *   tensor, 3.3e-5 in all with the rounding term).
 * - Every SIMD table against scalar for every source format, both layouts,
 *   letterbox on and off (wide and tall frames), sizes from 1x1 up to
 *   1920x1080, tensors smaller and larger than the frame and wider than one
 *   column chunk, odd widths and strides, misaligned frames and tensors:
 *   within 1e-5 of the largest possible |output| (1e-5 absolute for
 *   [-1, 1]); the SIMD versions fuse multiply-adds, so they may differ by
 *   rounding.
 * - Frames end right before a PROT_NONE page, so a kernel that reads one
 *   byte past the last pixel crashes the test.
 * - Rows outside [row_begin, row_end) and bytes after the tensor are never
 *   written; a tensor written in pieces equals one written in one call, bit
 *   for bit.
 * - Geometry on known cases, and consistency with the sampling.
 */
#include "kk-test-util.h"

#include <math.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- Frames that end at a guard page ------------------------------------ */

typedef struct {
  guint8 *map;
  size_t map_size;
  kk_image_view view;
} Frame;

static void
frame_new (Frame *f, GRand *rand, kk_pixel_format format, size_t w, size_t h, size_t stride_extra)
{
  const size_t bpp = kk_pixel_format_channels (format);
  const size_t stride = w * bpp + stride_extra;
  const size_t bytes = stride * (h - 1) + w * bpp;
  const size_t page = (size_t) sysconf (_SC_PAGESIZE);
  const size_t body = (bytes + page - 1) / page * page;

  f->map_size = body + page;
  f->map = mmap (NULL, f->map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  g_assert_true (f->map != MAP_FAILED);
  g_assert_cmpint (mprotect (f->map + body, page, PROT_NONE), ==, 0);
  /* The last byte of the last row is the last readable byte. */
  guint8 *data = f->map + body - bytes;
  kk_test_fill_random (rand, data, bytes);
  f->view = (kk_image_view) { data, w, h, stride, format };
}

static void
frame_free (Frame *f)
{
  munmap (f->map, f->map_size);
}

/* ---- The double-precision oracle ----------------------------------------- */

typedef struct {
  size_t x, y, w, h;
} Rect;

/* Letterbox rectangle from the definition: scale by the smaller ratio, the
 * limiting side exact, the other rounded half up, centred (floor). */
static Rect
oracle_rect (size_t sw, size_t sh, const kk_model_input_params *p)
{
  if (!p->letterbox)
    return (Rect) { 0, 0, p->width, p->height };
  double s = fmin ((double) p->width / (double) sw, (double) p->height / (double) sh);
  size_t w = (size_t) MAX (1.0, MIN ((double) p->width, floor ((double) sw * s + 0.5)));
  size_t h = (size_t) MAX (1.0, MIN ((double) p->height, floor ((double) sh * s + 0.5)));
  return (Rect) { (p->width - w) / 2, (p->height - h) / 2, w, h };
}

static double
channel (const kk_image_view *v, size_t x, size_t y, int c)
{
  const guint8 *px = v->data + y * v->stride + x * kk_pixel_format_channels (v->format);
  switch (v->format)
    {
    case KK_PIXEL_GRAY8:
      return px[0];
    case KK_PIXEL_RGB8:
    case KK_PIXEL_RGBA8:
      return px[c];
    case KK_PIXEL_BGRA8:
    case KK_PIXEL_BGRX8:
      return px[2 - c];
    case KK_PIXEL_COUNT:
    default:
      g_assert_not_reached ();
    }
}

/* One axis: the two taps and the weight of the second. */
static void
oracle_axis (size_t d, size_t d0, size_t n, size_t len, size_t *i0, size_t *i1, double *w)
{
  double f = ((double) (d - d0) + 0.5) * (double) len / (double) n - 0.5;
  f = CLAMP (f, 0.0, (double) (len - 1));
  *i0 = (size_t) floor (f);
  *i1 = MIN (*i0 + 1, len - 1);
  *w = f - (double) *i0;
}

static void
oracle (const kk_image_view *src, const kk_model_input_params *p, double *out)
{
  const size_t W = p->width, H = p->height;
  const Rect r = oracle_rect (src->width, src->height, p);

  for (size_t y = 0; y < H; y++)
    for (size_t x = 0; x < W; x++)
      for (int c = 0; c < 3; c++)
        {
          double v;
          if (x < r.x || x >= r.x + r.w || y < r.y || y >= r.y + r.h)
            v = p->pad[c];
          else
            {
              size_t x0, x1, y0, y1;
              double wx, wy;
              oracle_axis (x, r.x, r.w, src->width, &x0, &x1, &wx);
              oracle_axis (y, r.y, r.h, src->height, &y0, &y1, &wy);
              double top = (1 - wx) * channel (src, x0, y0, c) + wx * channel (src, x1, y0, c);
              double bot = (1 - wx) * channel (src, x0, y1, c) + wx * channel (src, x1, y1, c);
              v = ((1 - wy) * top + wy * bot) * (double) p->scale[c] + (double) p->offset[c];
            }
          size_t i = p->layout == KK_LAYOUT_NHWC ? (y * W + x) * 3 + c : (c * H + y) * W + x;
          out[i] = v;
        }
}

/* The largest |output| the parameters can produce: tolerances scale with it. */
static double
output_magnitude (const kk_model_input_params *p)
{
  double m = 0;
  for (int c = 0; c < 3; c++)
    {
      const double s = p->scale[c], o = p->offset[c], pad = p->pad[c];
      m = MAX (m, fabs (o));
      m = MAX (m, fabs (255.0 * s + o));
      m = MAX (m, fabs (pad));
    }
  return MAX (m, 1e-3);
}

#define TOL_ORACLE 2e-6
#define TOL_SIMD 1e-5
/* Largest error of rounding a horizontal weight to a multiple of 1/32767
 * (KK_MI_ONE in kernels/model-input), in input levels. */
#define WEIGHT_ROUNDING_LEVELS (0.5 * 255.0 / 32767.0)

static double
oracle_tolerance (const kk_model_input_params *p)
{
  double s = 0;
  for (int c = 0; c < 3; c++)
    s = MAX (s, fabs ((double) p->scale[c]));
  return TOL_ORACLE * output_magnitude (p) + WEIGHT_ROUNDING_LEVELS * s;
}

/* ---- Cases ----------------------------------------------------------------- */

typedef struct {
  size_t sw, sh, W, H;
} Case;

static const Case cases[] = {
  { 1, 1, 1, 1 },
  { 1, 1, 7, 5 },
  { 1, 5, 4, 4 },
  { 5, 1, 4, 4 },
  { 2, 2, 3, 3 },
  { 2, 3, 9, 2 },
  { 3, 7, 5, 9 },
  { 7, 3, 16, 16 },
  { 17, 13, 8, 8 },
  { 13, 11, 1, 1 },
  { 100, 3, 9, 100 },
  { 33, 17, 300, 200 },     /* tensor larger than the frame, two column chunks */
  { 64, 48, 31, 17 },
  { 300, 10, 600, 20 },     /* three chunks, upscale */
  { 641, 479, 257, 129 },   /* odd sizes, two chunks */
  { 1280, 720, 128, 128 },  /* the camera -> BlazeFace case */
  { 720, 1280, 128, 128 },  /* tall */
  { 1920, 1080, 256, 256 },
};

static const kk_model_input_params param_sets[] = {
  /* [-1, 1], as BlazeFace wants */
  { 0, 0, KK_LAYOUT_NHWC, { 1 / 127.5f, 1 / 127.5f, 1 / 127.5f }, { -1, -1, -1 }, false, { 0.5f, -0.25f, 0.125f } },
  /* ImageNet mean / std: a different scale and offset per channel */
  { 0, 0, KK_LAYOUT_NHWC, { 1 / (255 * 0.229f), 1 / (255 * 0.224f), 1 / (255 * 0.225f) },
    { -0.485f / 0.229f, -0.456f / 0.224f, -0.406f / 0.225f }, false, { -3, 2, 7 } },
  /* raw 0..255 */
  { 0, 0, KK_LAYOUT_NHWC, { 1, 1, 1 }, { 0, 0, 0 }, false, { 114, 115, 116 } },
};

static const char *const format_names[] = { "gray8", "rgb8", "rgba8", "bgra8", "bgrx8" };

static kk_model_input_params
make_params (size_t pset, const Case *cs, kk_layout layout, bool letterbox)
{
  kk_model_input_params p = param_sets[pset];
  p.width = cs->W;
  p.height = cs->H;
  p.layout = layout;
  p.letterbox = letterbox;
  return p;
}

/* A tensor buffer filled with the guard byte, with slack before and after. */
typedef struct {
  KkTestBuf buf;
  float *t;
  size_t n;  /* floats */
} Tensor;

static void
tensor_new (Tensor *t, size_t floats, size_t misalign)
{
  t->n = floats;
  t->buf = kk_test_buf_new (floats * sizeof (float));
  t->t = kk_test_buf_at (&t->buf, misalign);
}

static void
tensor_reset (Tensor *t)
{
  kk_test_buf_reset (&t->buf);
}

static void
tensor_check_guards (const Tensor *t)
{
  kk_test_assert_untouched_after (t->t + t->n, KK_TEST_GUARD);
  kk_test_assert_untouched_before (t->t, 16);
}

/* Rows outside [rb, re) still hold the guard byte, in every plane. */
static void
tensor_check_rows_untouched (const Tensor *t, const kk_model_input_params *p, size_t rb, size_t re)
{
  const size_t W = p->width, H = p->height;
  for (size_t y = 0; y < H; y++)
    {
      if (y >= rb && y < re)
        continue;
      for (size_t c = 0; c < 3; c++)
        {
          const float *row = p->layout == KK_LAYOUT_NHWC ? t->t + y * W * 3 : t->t + (c * H + y) * W;
          const size_t len = p->layout == KK_LAYOUT_NHWC ? W * 3 : W;
          const guint8 *b = (const guint8 *) row;
          for (size_t i = 0; i < len * sizeof (float); i++)
            if (b[i] != KK_TEST_GUARD_BYTE)
              g_error ("row %zu was written by a call for rows [%zu, %zu)", y, rb, re);
          if (p->layout == KK_LAYOUT_NHWC)
            break;
        }
    }
}

static void
describe (char *buf, size_t size, const kk_image_view *v, const kk_model_input_params *p)
{
  g_snprintf (buf, size, "%s %zux%zu stride %zu -> %zux%zu %s%s",
              format_names[v->format], v->width, v->height, v->stride, p->width, p->height,
              p->layout == KK_LAYOUT_NHWC ? "NHWC" : "NCHW", p->letterbox ? " letterbox" : "");
}

/* ---- Geometry -------------------------------------------------------------- */

static void
check_geometry (size_t sw, size_t sh, size_t W, size_t H, bool letterbox,
                float sx, float sy, float px, float py)
{
  kk_model_input_params p = param_sets[0];
  kk_model_input_geometry g;
  p.width = W;
  p.height = H;
  p.letterbox = letterbox;
  kk_model_input_geometry_compute (sw, sh, &p, &g);
  g_assert_cmpfloat_with_epsilon (g.scale_x, sx, 1e-6);
  g_assert_cmpfloat_with_epsilon (g.scale_y, sy, 1e-6);
  g_assert_cmpfloat_with_epsilon (g.pad_x, px, 1e-6);
  g_assert_cmpfloat_with_epsilon (g.pad_y, py, 1e-6);
}

static void
test_geometry (void)
{
  /* Stretch: scale = tensor / frame, no pad. */
  check_geometry (1280, 720, 128, 128, false, 0.1f, 128.f / 720, 0, 0);
  check_geometry (7, 3, 14, 12, false, 2, 4, 0, 0);
  /* Wide frame: width fills, 720 * 0.1 = 72 rows, (128 - 72) / 2 = 28 above. */
  check_geometry (1280, 720, 128, 128, true, 0.1f, 0.1f, 0, 28);
  /* Tall frame: the transpose. */
  check_geometry (720, 1280, 128, 128, true, 0.1f, 0.1f, 28, 0);
  /* 1920x1080 -> 256x256: 144 rows, 56 above. */
  check_geometry (1920, 1080, 256, 256, true, 256.f / 1920, 144.f / 1080, 0, 56);
  /* Same aspect ratio: letterbox is a stretch. */
  check_geometry (640, 480, 320, 240, true, 0.5f, 0.5f, 0, 0);
  /* Rounding: 2 * 5 / 3 = 3.33 -> 3 rows, (5 - 3) / 2 = 1 above. */
  check_geometry (3, 2, 5, 5, true, 5.f / 3, 1.5f, 0, 1);
  /* Half up: 1 * 5 / 2 = 2.5 -> 3 rows, 1 above; odd slack goes below. */
  check_geometry (2, 1, 5, 5, true, 2.5f, 3, 0, 1);
  /* Upscale into a wide tensor: 10x10 -> 300x100: height fills, 100 wide, 100 left. */
  check_geometry (10, 10, 300, 100, true, 10, 10, 100, 0);
  /* Extreme aspect: the short side keeps at least one pixel. */
  check_geometry (1000, 1, 10, 10, true, 0.01f, 1, 0, 4);
  /* Empty frame: identity. */
  check_geometry (0, 5, 10, 10, true, 1, 1, 0, 0);

  /* Consistency with the oracle's rectangle for every test case. */
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    for (int lb = 0; lb < 2; lb++)
      {
        kk_model_input_params p = make_params (0, &cases[i], KK_LAYOUT_NHWC, lb);
        kk_model_input_geometry g;
        Rect r = oracle_rect (cases[i].sw, cases[i].sh, &p);
        kk_model_input_geometry_compute (cases[i].sw, cases[i].sh, &p, &g);
        g_assert_cmpfloat (g.scale_x, ==, (float) ((double) r.w / cases[i].sw));
        g_assert_cmpfloat (g.scale_y, ==, (float) ((double) r.h / cases[i].sh));
        g_assert_cmpfloat (g.pad_x, ==, (float) r.x);
        g_assert_cmpfloat (g.pad_y, ==, (float) r.y);
      }
}

/* ---- Scalar vs the oracle ---------------------------------------------------- */

static void
test_scalar_oracle (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (1);
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  double worst = 0;

  for (size_t ci = 0; ci < G_N_ELEMENTS (cases); ci++)
    for (int f = 0; f < KK_PIXEL_COUNT; f++)
      {
        Frame fr;
        frame_new (&fr, rand, (kk_pixel_format) f, cases[ci].sw, cases[ci].sh, ci % 3 == 1 ? 3 : 0);
        for (size_t ps = 0; ps < G_N_ELEMENTS (param_sets); ps++)
          for (int layout = 0; layout < 2; layout++)
            for (int lb = 0; lb < 2; lb++)
              {
                kk_model_input_params p = make_params (ps, &cases[ci], (kk_layout) layout, lb);
                const size_t n = p.width * p.height * 3;
                Tensor t;
                double *want = g_new (double, n);
                char what[200];

                tensor_new (&t, n, 0);
                ref->model_input (&fr.view, t.t, &p, 0, p.height);
                tensor_check_guards (&t);
                oracle (&fr.view, &p, want);
                describe (what, sizeof what, &fr.view, &p);
                const double tol = oracle_tolerance (&p);
                for (size_t i = 0; i < n; i++)
                  {
                    double err = fabs ((double) t.t[i] - want[i]);
                    if (!(err <= tol))
                      g_error ("scalar vs oracle, %s: element %zu is %.9g, want %.9g (tolerance %.3g)",
                               what, i, (double) t.t[i], want[i], tol);
                    worst = MAX (worst, err / tol);
                  }
                g_free (want);
                kk_test_buf_free (&t.buf);
              }
        frame_free (&fr);
      }
  g_test_message ("scalar vs double oracle: worst error %.3g of the tolerance", worst);
}

/* ---- SIMD vs scalar ---------------------------------------------------------- */

typedef struct {
  double worst;
  guint64 runs;
} SimdStats;

/* Runs `k` on rows [0, H) in pieces (a random split when `split`), checking
 * guards, untouched rows of each piece, and returns nothing: the tensor is
 * left in t. */
static void
run_split (const kk_kernels *k, const kk_image_view *v, const kk_model_input_params *p,
           Tensor *t, GRand *rand, bool split)
{
  tensor_reset (t);
  if (!split)
    {
      k->model_input (v, t->t, p, 0, p->height);
      tensor_check_guards (t);
      return;
    }
  /* First piece checked alone for untouched rows, then the rest. */
  size_t rb = 0;
  while (rb < p->height)
    {
      size_t re = rb + (size_t) g_rand_int_range (rand, 1, (gint32) MIN (p->height - rb, 40) + 1);
      if (rb == 0)
        {
          k->model_input (v, t->t, p, rb, re);
          tensor_check_rows_untouched (t, p, rb, re);
        }
      else
        k->model_input (v, t->t, p, rb, re);
      rb = re;
    }
  /* An empty range and a range past the end write nothing new. */
  k->model_input (v, t->t, p, p->height, p->height);
  k->model_input (v, t->t, p, 3, 3);
  tensor_check_guards (t);
}

static void
simd_vs_scalar (const kk_kernels *ref, const kk_kernels *isa, gpointer data)
{
  SimdStats *st = data;
  g_autoptr (GRand) rand = g_rand_new_with_seed (2);
  const size_t stride_extras[] = { 0, 3, 61 };
  const size_t misaligns[] = { 0, 4, 12, 36 };
  double worst = 0;

  for (size_t ci = 0; ci < G_N_ELEMENTS (cases); ci++)
    for (int f = 0; f < KK_PIXEL_COUNT; f++)
      for (size_t si = 0; si < G_N_ELEMENTS (stride_extras); si++)
        {
          /* The big cases once per format; the small ones with every stride. */
          if (cases[ci].sw * cases[ci].sh > 100000 && si > 0)
            continue;
          Frame fr;
          frame_new (&fr, rand, (kk_pixel_format) f, cases[ci].sw, cases[ci].sh, stride_extras[si]);
          for (int layout = 0; layout < 2; layout++)
            for (int lb = 0; lb < 2; lb++)
              {
                const size_t ps = (ci + si + (size_t) lb) % G_N_ELEMENTS (param_sets);
                kk_model_input_params p = make_params (ps, &cases[ci], (kk_layout) layout, lb);
                const size_t n = p.width * p.height * 3;
                const size_t mis = misaligns[(ci + (size_t) f + si) % G_N_ELEMENTS (misaligns)];
                Tensor want, got, pieces;
                char what[200];

                describe (what, sizeof what, &fr.view, &p);
                tensor_new (&want, n, 0);
                tensor_new (&got, n, mis);
                tensor_new (&pieces, n, (mis + 8) % 64);
                run_split (ref, &fr.view, &p, &want, rand, false);
                run_split (isa, &fr.view, &p, &got, rand, false);
                run_split (isa, &fr.view, &p, &pieces, rand, true);

                const double tol = TOL_SIMD * output_magnitude (&p);
                for (size_t i = 0; i < n; i++)
                  {
                    double err = fabs ((double) got.t[i] - (double) want.t[i]);
                    if (!(err <= tol))
                      g_error ("%s vs scalar, %s, tensor misaligned by %zu: element %zu is %.9g, want %.9g",
                               kk_isa_name (isa->isa), what, mis, i, (double) got.t[i], (double) want.t[i]);
                    worst = MAX (worst, err / output_magnitude (&p));
                  }
                if (memcmp (got.t, pieces.t, n * sizeof (float)) != 0)
                  g_error ("%s, %s: the tensor written in row pieces differs from one call", kk_isa_name (isa->isa), what);

                kk_test_buf_free (&want.buf);
                kk_test_buf_free (&got.buf);
                kk_test_buf_free (&pieces.buf);
                st->runs++;
              }
          frame_free (&fr);
        }
  g_test_message ("%s vs scalar: worst difference %.3g of the output magnitude (tolerance %.3g)",
                  kk_isa_name (isa->isa), worst, TOL_SIMD);
  st->worst = MAX (st->worst, worst);
}

static void
test_simd_vs_scalar (void)
{
  SimdStats st = { 0 };
  kk_test_each_isa (simd_vs_scalar, &st);
}

/* The reference too must split rows exactly and touch nothing else. */
static void
test_scalar_rows (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (3);
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);

  for (size_t ci = 0; ci < G_N_ELEMENTS (cases); ci++)
    {
      if (cases[ci].sw * cases[ci].sh > 100000)
        continue;
      Frame fr;
      frame_new (&fr, rand, KK_PIXEL_RGB8, cases[ci].sw, cases[ci].sh, 1);
      for (int layout = 0; layout < 2; layout++)
        for (int lb = 0; lb < 2; lb++)
          {
            kk_model_input_params p = make_params (0, &cases[ci], (kk_layout) layout, lb);
            const size_t n = p.width * p.height * 3;
            Tensor a, b;
            tensor_new (&a, n, 0);
            tensor_new (&b, n, 4);
            run_split (ref, &fr.view, &p, &a, rand, false);
            run_split (ref, &fr.view, &p, &b, rand, true);
            g_assert_cmpmem (a.t, n * sizeof (float), b.t, n * sizeof (float));
            kk_test_buf_free (&a.buf);
            kk_test_buf_free (&b.buf);
          }
      frame_free (&fr);
    }
}

/* ---- Bad input ----------------------------------------------------------------- */

static void
test_bad_input (void)
{
  const guint8 pixels[16] = { 0 };
  kk_model_input_params p = param_sets[0];
  float t[4 * 3 * 3 + 1];

  p.width = 4;
  p.height = 3;
  for (int i = 0; i < KK_ISA_COUNT; i++)
    {
      const kk_kernels *k = kk_kernels_get ((kk_isa) i);
      if (k == NULL)
        continue;
      g_assert_nonnull (k->model_input);

      const kk_image_view bad[] = {
        { NULL, 2, 2, 8, KK_PIXEL_RGBA8 },           /* no data */
        { pixels, 0, 2, 8, KK_PIXEL_RGBA8 },         /* empty */
        { pixels, 2, 2, 8, KK_PIXEL_COUNT },         /* unknown format */
        { pixels, 2, 2, 7, KK_PIXEL_RGBA8 },         /* stride shorter than a row */
      };
      for (size_t b = 0; b < G_N_ELEMENTS (bad); b++)
        for (int layout = 0; layout < 2; layout++)
          {
            p.layout = (kk_layout) layout;
            memset (t, 0xA5, sizeof t);
            k->model_input (&bad[b], t, &p, 0, 100);  /* row_end past the end is clamped */
            for (size_t j = 0; j < 4 * 3 * 3; j++)
              {
                size_t c = layout == KK_LAYOUT_NHWC ? j % 3 : j / 12;
                g_assert_cmpfloat (t[j], ==, p.pad[c]);
              }
            const guint8 *end = (const guint8 *) &t[4 * 3 * 3];
            for (size_t j = 0; j < sizeof (float); j++)
              g_assert_cmpint (end[j], ==, 0xA5);
          }
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kernels/model-input/geometry", test_geometry);
  g_test_add_func ("/kernels/model-input/scalar-vs-oracle", test_scalar_oracle);
  g_test_add_func ("/kernels/model-input/scalar-rows", test_scalar_rows);
  g_test_add_func ("/kernels/model-input/simd-vs-scalar", test_simd_vs_scalar);
  g_test_add_func ("/kernels/model-input/bad-input", test_bad_input);
  return g_test_run ();
}
