/* test-resize.c — bilinear u8 resize: the scalar reference against exact
 * bilinear in double precision, and every other ISA against the scalar
 * reference byte for byte, over channel counts, sizes, strides, misaligned
 * pointers, row ranges and memory bounds. */
#include <glib.h>
#include <math.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kk-test-util.h"

static const size_t channel_counts[] = { 1, 3, 4 };

/* An image inside a guarded buffer: stride = w * c + pad, data starts
 * `misalign` bytes past a 64-byte boundary; everything else in the buffer is
 * KK_TEST_GUARD_BYTE. */
typedef struct {
  KkTestBuf buf;
  guint8 *data;
  size_t w, h, c, stride;
} TestImg;

static TestImg
img_new (size_t w, size_t h, size_t c, size_t pad, size_t misalign)
{
  TestImg im;
  im.w = w;
  im.h = h;
  im.c = c;
  im.stride = w * c + pad;
  /* + misalign + 64: the data never ends closer than 64 bytes to the end. */
  im.buf = kk_test_buf_new (im.stride * h + misalign + 64);
  im.data = kk_test_buf_at (&im.buf, misalign);
  return im;
}

static void
img_free (TestImg *im)
{
  kk_test_buf_free (&im->buf);
}

static void
img_fill_random (TestImg *im, GRand *rand)
{
  for (size_t y = 0; y < im->h; y++)
    kk_test_fill_random (rand, im->data + y * im->stride, im->w * im->c);
}

static size_t
img_buf_bytes (const TestImg *im)
{
  return im->buf.size + 2 * KK_TEST_GUARD + 64;
}

static void
resize (const kk_kernels *k, const TestImg *src, TestImg *dst, size_t row_begin, size_t row_end)
{
  k->resize_bilinear_u8 (src->data, src->w, src->h, src->stride, dst->data, dst->w, dst->h,
                         dst->stride, src->c, row_begin, row_end);
}

/* Every byte of dst's buffer outside rows [row_begin, row_end) x bytes
 * [0, w * c) must still be the guard byte: padding, unwritten rows, the
 * slack before and after. */
static void
assert_only_rows_written (const TestImg *dst, size_t row_begin, size_t row_end, const char *what)
{
  const guint8 *base = dst->buf.base;
  const size_t total = img_buf_bytes (dst);

  for (size_t i = 0; i < total; i++)
    {
      const guint8 *p = base + i;
      if (p >= dst->data && p < dst->data + dst->stride * dst->h)
        {
          const size_t off = (size_t) (p - dst->data);
          const size_t y = off / dst->stride, x = off % dst->stride;
          if (y >= row_begin && y < row_end && x < dst->w * dst->c)
            continue;
        }
      if (*p != KK_TEST_GUARD_BYTE)
        g_error ("%s: byte %td outside the written rows changed (%ux%u, c=%zu, rows %zu..%zu)",
                 what, p - dst->data, (unsigned) dst->w, (unsigned) dst->h, dst->c, row_begin,
                 row_end);
    }
}

static void
assert_same_pixels (const TestImg *ref, const TestImg *got, const char *what, size_t sw, size_t sh)
{
  for (size_t y = 0; y < ref->h; y++)
    if (memcmp (ref->data + y * ref->stride, got->data + y * got->stride, ref->w * ref->c) != 0)
      {
        for (size_t x = 0; x < ref->w * ref->c; x++)
          if (ref->data[y * ref->stride + x] != got->data[y * got->stride + x])
            g_error ("%s: %zux%zu -> %zux%zu c=%zu: row %zu byte %zu is %u, scalar says %u", what,
                     sw, sh, ref->w, ref->h, ref->c, y, x, got->data[y * got->stride + x],
                     ref->data[y * ref->stride + x]);
      }
}

/* ---- The reference against exact bilinear ------------------------------ */

static void
exact_coord (size_t d, size_t src_size, size_t dst_size, size_t *i0, size_t *i1, double *f)
{
  double s = ((double) d + 0.5) * (double) src_size / (double) dst_size - 0.5;
  if (s < 0)
    s = 0;
  if (s > (double) (src_size - 1))
    s = (double) (src_size - 1);
  *i0 = (size_t) floor (s);
  *i1 = *i0 + 1 < src_size ? *i0 + 1 : *i0;
  *f = s - (double) *i0;
}

/* resize.h derives |error| <= 0.63 levels; a wrong weight, a rounding bias
 * or an off-by-one coordinate shows up well above that. */
#define EXACT_TOLERANCE 0.64

static double
max_error_vs_exact (const TestImg *src, const TestImg *dst)
{
  double worst = 0;
  const size_t c = src->c;

  for (size_t y = 0; y < dst->h; y++)
    {
      size_t y0, y1;
      double fy;
      exact_coord (y, src->h, dst->h, &y0, &y1, &fy);
      for (size_t x = 0; x < dst->w; x++)
        {
          size_t x0, x1;
          double fx;
          exact_coord (x, src->w, dst->w, &x0, &x1, &fx);
          for (size_t k = 0; k < c; k++)
            {
              const guint8 *r0 = src->data + y0 * src->stride, *r1 = src->data + y1 * src->stride;
              const double top = r0[x0 * c + k] * (1 - fx) + r0[x1 * c + k] * fx;
              const double bottom = r1[x0 * c + k] * (1 - fx) + r1[x1 * c + k] * fx;
              const double want = top * (1 - fy) + bottom * fy;
              const double err = fabs (dst->data[y * dst->stride + x * c + k] - want);
              if (err > worst)
                worst = err;
              if (err > EXACT_TOLERANCE)
                g_error ("scalar %zux%zu -> %zux%zu c=%zu at (%zu, %zu, %zu): %u, exact %.3f",
                         src->w, src->h, dst->w, dst->h, c, x, y, k,
                         dst->data[y * dst->stride + x * c + k], want);
            }
        }
    }
  return worst;
}

static void
test_reference_vs_exact (void)
{
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  g_autoptr (GRand) rand = g_rand_new_with_seed (11);
  const size_t sizes[][4] = {
    { 1920, 1080, 640, 360 }, { 1280, 720, 256, 256 }, { 1280, 720, 128, 128 },
    { 7, 5, 300, 2 }, { 1, 1, 17, 9 }, { 3, 2, 8, 7 }, { 64, 48, 100, 77 }, { 100, 77, 64, 48 },
    { 33, 1, 5, 1 }, { 1, 33, 1, 5 }, { 640, 480, 641, 479 }, { 5000, 3, 7, 2 },
    { 97, 13, 2500, 3 },
  };
  double worst = 0;

  for (size_t i = 0; i < G_N_ELEMENTS (sizes); i++)
    for (size_t ci = 0; ci < G_N_ELEMENTS (channel_counts); ci++)
      {
        const size_t c = channel_counts[ci];
        TestImg src = img_new (sizes[i][0], sizes[i][1], c, 5, 3);
        TestImg dst = img_new (sizes[i][2], sizes[i][3], c, 3, 1);
        img_fill_random (&src, rand);
        resize (ref, &src, &dst, 0, dst.h);
        worst = MAX (worst, max_error_vs_exact (&src, &dst));
        img_free (&src);
        img_free (&dst);
      }
  g_test_message ("worst difference from exact bilinear: %.4f levels", worst);
}

static void
test_reference_trivial (void)
{
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  g_autoptr (GRand) rand = g_rand_new_with_seed (12);
  const size_t same[][2] = { { 1, 1 }, { 1, 7 }, { 9, 1 }, { 37, 23 }, { 640, 360 } };

  for (size_t ci = 0; ci < G_N_ELEMENTS (channel_counts); ci++)
    {
      const size_t c = channel_counts[ci];

      /* Same size: a copy. */
      for (size_t i = 0; i < G_N_ELEMENTS (same); i++)
        {
          TestImg src = img_new (same[i][0], same[i][1], c, 7, 0);
          TestImg dst = img_new (same[i][0], same[i][1], c, 0, 5);
          img_fill_random (&src, rand);
          resize (ref, &src, &dst, 0, dst.h);
          assert_same_pixels (&src, &dst, "same size is a copy", src.w, src.h);
          img_free (&src);
          img_free (&dst);
        }

      /* A constant image stays constant at any scale, and a 1x1 source is a
       * constant image. */
      const size_t scales[][4] = { { 13, 11, 40, 3 }, { 40, 3, 13, 11 }, { 1, 1, 17, 9 },
                                   { 1, 1, 1, 1 }, { 1920, 1080, 640, 360 } };
      for (size_t i = 0; i < G_N_ELEMENTS (scales); i++)
        for (int value = 0; value < 256; value += 51)
          {
            TestImg src = img_new (scales[i][0], scales[i][1], c, 2, 0);
            TestImg dst = img_new (scales[i][2], scales[i][3], c, 1, 0);
            for (size_t y = 0; y < src.h; y++)
              memset (src.data + y * src.stride, value, src.w * c);
            resize (ref, &src, &dst, 0, dst.h);
            for (size_t y = 0; y < dst.h; y++)
              for (size_t x = 0; x < dst.w * c; x++)
                if (dst.data[y * dst.stride + x] != value)
                  g_error ("constant %d, %zux%zu -> %zux%zu c=%zu: got %u at row %zu byte %zu",
                           value, src.w, src.h, dst.w, dst.h, c, dst.data[y * dst.stride + x], y, x);
            img_free (&src);
            img_free (&dst);
          }
    }
}

/* Calls the kernels must ignore, and row ranges they must clamp. */
static void
test_degenerate_calls (void)
{
  for (int i = 0; i < KK_ISA_COUNT; i++)
    {
      const kk_kernels *k = kk_kernels_get ((kk_isa) i);
      if (k == NULL)
        continue;
      TestImg src = img_new (9, 7, 4, 0, 0);
      TestImg dst = img_new (5, 6, 4, 3, 0);
      memset (src.data, 200, src.stride * src.h);

      /* Unsupported channel counts and empty ranges write nothing. */
      k->resize_bilinear_u8 (src.data, 9, 7, src.stride, dst.data, 5, 6, dst.stride, 2, 0, 6);
      k->resize_bilinear_u8 (src.data, 9, 7, src.stride, dst.data, 5, 6, dst.stride, 0, 0, 6);
      k->resize_bilinear_u8 (src.data, 9, 7, src.stride, dst.data, 5, 6, dst.stride, 4, 3, 3);
      k->resize_bilinear_u8 (src.data, 9, 7, src.stride, dst.data, 5, 6, dst.stride, 4, 5, 2);
      k->resize_bilinear_u8 (src.data, 9, 7, src.stride, dst.data, 5, 6, dst.stride, 4, 6, 100);
      assert_only_rows_written (&dst, 0, 0, kk_isa_name ((kk_isa) i));

      /* row_end past dst_h stops at dst_h. */
      k->resize_bilinear_u8 (src.data, 9, 7, src.stride, dst.data, 5, 6, dst.stride, 4, 4, 100);
      assert_only_rows_written (&dst, 4, 6, kk_isa_name ((kk_isa) i));
      img_free (&src);
      img_free (&dst);
    }
}

static void
test_tables (void)
{
  for (int i = 0; i < KK_ISA_COUNT; i++)
    {
      const kk_kernels *k = kk_kernels_get ((kk_isa) i);
      if (k == NULL)
        g_test_message ("%s: not supported by this CPU", kk_isa_name ((kk_isa) i));
      else
        g_assert_nonnull (k->resize_bilinear_u8);
    }
}

/* ---- Every ISA against the reference ----------------------------------- */

/* One comparison: scalar into a tight buffer, the ISA into a padded,
 * misaligned one whose guard bytes must survive. */
static void
compare_one (const kk_kernels *ref, const kk_kernels *isa, GRand *rand, size_t sw, size_t sh,
             size_t dw, size_t dh, size_t c)
{
  TestImg src = img_new (sw, sh, c, g_rand_int_range (rand, 0, 3) == 0 ? 0 : g_rand_int_range (rand, 1, 70),
                         g_rand_int_range (rand, 0, 64));
  TestImg want = img_new (dw, dh, c, 0, 0);
  TestImg got = img_new (dw, dh, c, g_rand_int_range (rand, 0, 2) == 0 ? 0 : g_rand_int_range (rand, 1, 70),
                         g_rand_int_range (rand, 0, 64));

  img_fill_random (&src, rand);
  resize (ref, &src, &want, 0, dh);
  resize (isa, &src, &got, 0, dh);
  assert_same_pixels (&want, &got, kk_isa_name (isa->isa), sw, sh);
  assert_only_rows_written (&got, 0, dh, kk_isa_name (isa->isa));
  img_free (&src);
  img_free (&want);
  img_free (&got);
}

static void
check_small_sweep (const kk_kernels *ref, const kk_kernels *isa, gpointer data)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (21);
  const size_t heights[][2] = { { 1, 3 }, { 5, 2 }, { 3, 7 }, { 2, 2 } };

  /* Every source and output width 1..40: all SIMD tails, up and down. */
  for (size_t ci = 0; ci < G_N_ELEMENTS (channel_counts); ci++)
    for (size_t sw = 1; sw <= 40; sw++)
      for (size_t dw = 1; dw <= 40; dw++)
        for (size_t hi = 0; hi < G_N_ELEMENTS (heights); hi++)
          compare_one (ref, isa, rand, sw, heights[hi][0], dw, heights[hi][1], channel_counts[ci]);

  /* Every source and output height 1..40 at a few widths. */
  for (size_t ci = 0; ci < G_N_ELEMENTS (channel_counts); ci++)
    for (size_t sh = 1; sh <= 40; sh++)
      for (size_t dh = 1; dh <= 40; dh++)
        compare_one (ref, isa, rand, 37, sh, 19, dh, channel_counts[ci]);
}

static void
test_isa_small_sweep (void)
{
  kk_test_each_isa (check_small_sweep, NULL);
}

/* Large and odd shapes: camera downscales, big upscales, extreme ratios,
 * outputs wider than a column chunk and sources wider than the scratch row. */
static const size_t large_sizes[][4] = {
  { 1920, 1080, 640, 360 }, { 1280, 720, 128, 128 }, { 1280, 720, 256, 256 },
  { 1920, 1080, 1280, 720 }, { 640, 360, 1920, 1080 }, { 7, 5, 300, 2 }, { 1, 1, 17, 9 },
  { 3000, 4, 2900, 3 }, { 5000, 3, 7, 2 }, { 97, 3, 2500, 4 }, { 1, 300, 40, 1 },
  { 300, 1, 1, 40 }, { 4099, 2, 4099, 2 }, { 2, 2, 1025, 3 }, { 333, 211, 1, 1 },
};

static void
check_large (const kk_kernels *ref, const kk_kernels *isa, gpointer data)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (22);

  for (size_t i = 0; i < G_N_ELEMENTS (large_sizes); i++)
    for (size_t ci = 0; ci < G_N_ELEMENTS (channel_counts); ci++)
      compare_one (ref, isa, rand, large_sizes[i][0], large_sizes[i][1], large_sizes[i][2],
                   large_sizes[i][3], channel_counts[ci]);
}

static void
test_isa_large (void)
{
  kk_test_each_isa (check_large, NULL);
}

/* Rows split into ranges (as core/ does across threads), including empty
 * ones, give the same bytes as one call, for every table. */
static void
test_row_split (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (23);
  const size_t sizes[][4] = { { 1920, 1080, 640, 360 }, { 7, 5, 300, 23 }, { 64, 3, 33, 50 },
                              { 5, 9, 1, 17 } };

  for (int t = 0; t < KK_ISA_COUNT; t++)
    {
      const kk_kernels *k = kk_kernels_get ((kk_isa) t);
      if (k == NULL)
        {
          g_test_message ("skipping %s: this CPU does not support it", kk_isa_name ((kk_isa) t));
          continue;
        }
      for (size_t i = 0; i < G_N_ELEMENTS (sizes); i++)
        for (size_t ci = 0; ci < G_N_ELEMENTS (channel_counts); ci++)
          {
            const size_t c = channel_counts[ci], dh = sizes[i][3];
            TestImg src = img_new (sizes[i][0], sizes[i][1], c, 9, 1);
            TestImg whole = img_new (sizes[i][2], dh, c, 0, 0);
            TestImg split = img_new (sizes[i][2], dh, c, 13, 7);
            TestImg single = img_new (sizes[i][2], dh, c, 4, 2);

            img_fill_random (&src, rand);
            resize (k, &src, &whole, 0, dh);
            for (size_t y = 0; y < dh;)
              {
                const size_t end = MIN (dh, y + (size_t) g_rand_int_range (rand, 0, 40));
                resize (k, &src, &split, y, end);
                assert_only_rows_written (&split, 0, end, "row split");
                y = end;
              }
            assert_same_pixels (&whole, &split, "random row ranges", src.w, src.h);
            /* One row at a time, bottom up. */
            for (size_t y = dh; y-- > 0;)
              resize (k, &src, &single, y, y + 1);
            assert_same_pixels (&whole, &single, "single rows", src.w, src.h);
            img_free (&src);
            img_free (&whole);
            img_free (&split);
            img_free (&single);
          }
    }
}

/* Reading outside the source faults: tightly packed sources placed right
 * after, or right before, an inaccessible page. */
static void
test_source_bounds (void)
{
  const size_t page = (size_t) sysconf (_SC_PAGESIZE);
  const size_t sizes[][4] = { { 1920, 4, 640, 3 }, { 97, 3, 33, 5 }, { 17, 2, 40, 3 },
                              { 1, 1, 5, 2 }, { 33, 1, 1, 1 }, { 3001, 2, 1000, 1 } };
  g_autoptr (GRand) rand = g_rand_new_with_seed (24);

  for (int t = 0; t < KK_ISA_COUNT; t++)
    {
      const kk_kernels *k = kk_kernels_get ((kk_isa) t);
      if (k == NULL)
        {
          g_test_message ("skipping %s: this CPU does not support it", kk_isa_name ((kk_isa) t));
          continue;
        }
      for (size_t i = 0; i < G_N_ELEMENTS (sizes) + 40; i++)
        for (size_t ci = 0; ci < G_N_ELEMENTS (channel_counts); ci++)
          {
            /* The listed sizes, then source widths 1..40 to 13 columns. */
            const size_t sw = i < G_N_ELEMENTS (sizes) ? sizes[i][0] : i - G_N_ELEMENTS (sizes) + 1;
            const size_t sh = i < G_N_ELEMENTS (sizes) ? sizes[i][1] : 2;
            const size_t dw = i < G_N_ELEMENTS (sizes) ? sizes[i][2] : 13;
            const size_t dh = i < G_N_ELEMENTS (sizes) ? sizes[i][3] : 3;
            const size_t c = channel_counts[ci];
            const size_t bytes = sw * sh * c;
            const size_t pages = (bytes + page - 1) / page;
            guint8 *map = mmap (NULL, (pages + 2) * page, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            g_assert_true (map != MAP_FAILED);
            g_assert_cmpint (mprotect (map, page, PROT_NONE), ==, 0);
            g_assert_cmpint (mprotect (map + (pages + 1) * page, page, PROT_NONE), ==, 0);
            guint8 *out = g_malloc (dw * dh * c);
            guint8 *want = g_malloc (dw * dh * c);

            for (int place = 0; place < 2; place++)
              {
                guint8 *src = place == 0 ? map + page : map + (pages + 1) * page - bytes;
                kk_test_fill_random (rand, src, bytes);
                kk_kernels_get (KK_ISA_SCALAR)->resize_bilinear_u8 (src, sw, sh, sw * c, want, dw, dh,
                                                                   dw * c, c, 0, dh);
                k->resize_bilinear_u8 (src, sw, sh, sw * c, out, dw, dh, dw * c, c, 0, dh);
                g_assert_cmpmem (want, dw * dh * c, out, dw * dh * c);
              }
            g_free (out);
            g_free (want);
            munmap (map, (pages + 2) * page);
          }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/resize/tables", test_tables);
  g_test_add_func ("/resize/reference/exact-bilinear", test_reference_vs_exact);
  g_test_add_func ("/resize/reference/trivial", test_reference_trivial);
  g_test_add_func ("/resize/degenerate-calls", test_degenerate_calls);
  g_test_add_func ("/resize/isa/small-sweep", test_isa_small_sweep);
  g_test_add_func ("/resize/isa/large", test_isa_large);
  g_test_add_func ("/resize/row-split", test_row_split);
  g_test_add_func ("/resize/source-bounds", test_source_bounds);
  return g_test_run ();
}
