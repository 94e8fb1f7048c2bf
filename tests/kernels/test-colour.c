/* test-colour.c — the gray conversions of every ISA table this CPU runs
 * against the scalar reference: every size 0..300 and some large ones,
 * misaligned source and destination, random and extreme pixels, exact
 * comparison, and nothing written past the end of a row. The reference
 * itself is checked against hand-computed BT.601 values, and kk_gray_rows
 * over whole images with odd strides. */
#include "kk-test-util.h"

#include <sys/mman.h>
#include <unistd.h>

typedef void (*GrayFn) (const uint8_t *src, uint8_t *dst, size_t n);

typedef enum {
  FMT_RGB8,
  FMT_RGBA8,
  FMT_BGRA8,
  FMT_COUNT
} Fmt;

static const char *const fmt_names[FMT_COUNT] = { "rgb8", "rgba8", "bgra8" };
static const size_t fmt_bpp[FMT_COUNT] = { 3, 4, 4 };

static const char *
fmt_label (kk_pixel_format format)
{
  switch (format)
    {
    case KK_PIXEL_RGB8:
      return "rgb8";
    case KK_PIXEL_RGBA8:
      return "rgba8";
    case KK_PIXEL_BGRA8:
      return "bgra8";
    case KK_PIXEL_BGRX8:
      return "bgrx8";
    case KK_PIXEL_GRAY8:
    case KK_PIXEL_COUNT:
    default:
      return "other";
    }
}

static GrayFn
gray_fn (const kk_kernels *k, Fmt fmt)
{
  switch (fmt)
    {
    case FMT_RGB8:
      return k->gray_from_rgb8;
    case FMT_RGBA8:
      return k->gray_from_rgba8;
    case FMT_BGRA8:
    case FMT_COUNT:
    default:
      return k->gray_from_bgra8;
    }
}

typedef enum {
  DATA_RANDOM,
  DATA_ZERO,
  DATA_FULL,
  DATA_EXTREMES,   /* every byte 0 or 255: the largest and smallest sums */
  DATA_COUNT
} DataKind;

static const char *const data_names[DATA_COUNT] = { "random", "zero", "255", "0-or-255" };

static void
fill_data (GRand *rand, guint8 *p, size_t bytes, DataKind kind)
{
  switch (kind)
    {
    case DATA_RANDOM:
      kk_test_fill_random (rand, p, bytes);
      break;
    case DATA_ZERO:
      memset (p, 0, bytes);
      break;
    case DATA_FULL:
      memset (p, 255, bytes);
      break;
    case DATA_EXTREMES:
    case DATA_COUNT:
    default:
      for (size_t i = 0; i < bytes; i++)
        p[i] = g_rand_boolean (rand) ? 255 : 0;
      break;
    }
}

/* (source, destination) misalignments in bytes; large sizes use the first
 * three only, to keep the run short. */
static const size_t misaligns[][2] = {
  { 0, 0 }, { 1, 3 }, { 63, 33 }, { 3, 1 }, { 7, 13 }, { 13, 7 }, { 33, 63 }, { 2, 0 }, { 0, 5 },
};

static void
fail_mismatch (const char *what, const char *isa, Fmt fmt, DataKind kind, size_t n,
               size_t src_off, size_t dst_off, size_t at, guint8 want, guint8 got)
{
  g_error ("%s: %s %s (%s data), n=%zu, src+%zu dst+%zu: pixel %zu is %u, scalar says %u",
           what, isa, fmt_names[fmt], data_names[kind], n, src_off, dst_off, at, got, want);
}

static void
check_format (const kk_kernels *ref, const kk_kernels *isa, Fmt fmt)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (0xC0105 + fmt);
  g_autoptr (GArray) sizes = kk_test_sizes ();
  size_t max_n = 0;

  for (guint s = 0; s < sizes->len; s++)
    max_n = MAX (max_n, g_array_index (sizes, size_t, s));

  const size_t bpp = fmt_bpp[fmt];
  /* room for the largest misalignment and the guard after each output */
  KkTestBuf src_buf = kk_test_buf_new (max_n * bpp + 2 * KK_TEST_GUARD);
  KkTestBuf want_buf = kk_test_buf_new (max_n + 2 * KK_TEST_GUARD);
  KkTestBuf got_buf = kk_test_buf_new (max_n + 2 * KK_TEST_GUARD);
  GrayFn ref_fn = gray_fn (ref, fmt);
  GrayFn isa_fn = gray_fn (isa, fmt);
  const char *isa_name = kk_isa_name (isa->isa);

  g_assert_nonnull (ref_fn);
  g_assert_nonnull (isa_fn);
  g_assert_true (ref_fn != isa_fn);

  for (int kind = 0; kind < DATA_COUNT; kind++)
    {
      fill_data (rand, kk_test_buf_at (&src_buf, 0), max_n * bpp + KK_TEST_GUARD, kind);
      for (guint s = 0; s < sizes->len; s++)
        {
          size_t n = g_array_index (sizes, size_t, s);
          size_t n_mis = n <= 300 ? G_N_ELEMENTS (misaligns) : 3;

          for (size_t m = 0; m < n_mis; m++)
            {
              const guint8 *src = kk_test_buf_at (&src_buf, misaligns[m][0]);
              guint8 *want = kk_test_buf_at (&want_buf, misaligns[m][1]);
              guint8 *got = kk_test_buf_at (&got_buf, misaligns[m][1]);

              const size_t dst_off = misaligns[m][1];

              /* from the aligned start, so the bytes before got are known too */
              memset (want - dst_off, KK_TEST_GUARD_BYTE, dst_off + n + KK_TEST_GUARD);
              memset (got - dst_off, KK_TEST_GUARD_BYTE, dst_off + n + KK_TEST_GUARD);
              ref_fn (src, want, n);
              isa_fn (src, got, n);
              kk_test_assert_untouched_after (got + n, KK_TEST_GUARD);
              for (size_t i = 1; i <= dst_off; i++)
                if (got[-(ptrdiff_t) i] != KK_TEST_GUARD_BYTE)
                  g_error ("%s %s: n=%zu wrote %zu bytes before its output", isa_name,
                           fmt_names[fmt], n, i);
              if (memcmp (want, got, n) != 0)
                for (size_t i = 0; i < n; i++)
                  if (want[i] != got[i])
                    fail_mismatch ("mismatch", isa_name, fmt, kind, n, misaligns[m][0],
                                   misaligns[m][1], i, want[i], got[i]);
            }
        }
    }

  kk_test_buf_free (&src_buf);
  kk_test_buf_free (&want_buf);
  kk_test_buf_free (&got_buf);
}

static void
check_rgb8 (const kk_kernels *ref, const kk_kernels *isa, gpointer data)
{
  check_format (ref, isa, FMT_RGB8);
}

static void
check_rgba8 (const kk_kernels *ref, const kk_kernels *isa, gpointer data)
{
  check_format (ref, isa, FMT_RGBA8);
}

static void
check_bgra8 (const kk_kernels *ref, const kk_kernels *isa, gpointer data)
{
  check_format (ref, isa, FMT_BGRA8);
}

static void
test_rgb8 (void)
{
  kk_test_each_isa (check_rgb8, NULL);
}

static void
test_rgba8 (void)
{
  kk_test_each_isa (check_rgba8, NULL);
}

static void
test_bgra8 (void)
{
  kk_test_each_isa (check_bgra8, NULL);
}

/* Source and destination that end exactly where an inaccessible page
 * begins: a kernel that reads past its last pixel or writes past its last
 * byte dies here, which the guard bytes alone cannot show for reads. */
typedef struct {
  guint8 *map;
  size_t len;
  guint8 *end;   /* first byte of the PROT_NONE page */
} EdgeBuf;

static void
edge_buf_init (EdgeBuf *e, size_t bytes)
{
  const size_t page = (size_t) sysconf (_SC_PAGESIZE);
  const size_t data_pages = (bytes + page - 1) / page + 1;

  e->len = (data_pages + 1) * page;
  e->map = mmap (NULL, e->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  g_assert_true (e->map != MAP_FAILED);
  e->end = e->map + data_pages * page;
  g_assert_cmpint (mprotect (e->end, page, PROT_NONE), ==, 0);
}

static void
edge_buf_clear (EdgeBuf *e)
{
  munmap (e->map, e->len);
}

static void
check_page_end (const kk_kernels *ref, const kk_kernels *isa, gpointer data)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (0xED6E);
  const size_t max_n = 4097;
  EdgeBuf src_edge, dst_edge;
  g_autofree guint8 *want = g_malloc (max_n);

  edge_buf_init (&src_edge, max_n * 4);
  edge_buf_init (&dst_edge, max_n);
  for (int fmt = 0; fmt < FMT_COUNT; fmt++)
    for (size_t n = 0; n <= max_n; n = n < 300 ? n + 1 : n * 2 + 1)
      {
        const size_t bpp = fmt_bpp[fmt];
        const guint8 *src = src_edge.end - n * bpp;
        guint8 *got = dst_edge.end - n;

        kk_test_fill_random (rand, src_edge.end - n * bpp, n * bpp);
        gray_fn (ref, fmt) (src, want, n);
        gray_fn (isa, fmt) (src, got, n);
        if (memcmp (want, got, n) != 0)
          g_error ("%s %s: n=%zu at a page end differs from scalar", kk_isa_name (isa->isa),
                   fmt_names[fmt], n);
      }
  edge_buf_clear (&src_edge);
  edge_buf_clear (&dst_edge);
}

static void
test_page_end (void)
{
  kk_test_each_isa (check_page_end, NULL);
}

/* The oracle itself: BT.601 primaries (76, 150, 29 as in every JPEG
 * decoder), the rounding midpoint, byte order per format, and that the
 * fourth byte of RGBA/BGRA is ignored. */
static void
test_reference_values (void)
{
  const kk_kernels *ref = kk_kernels_get (KK_ISA_SCALAR);
  const struct { guint8 r, g, b, y; } cases[] = {
    { 0, 0, 0, 0 },       { 255, 255, 255, 255 }, { 255, 0, 0, 76 },
    { 0, 255, 0, 150 },   { 0, 0, 255, 29 },      { 128, 128, 128, 128 },
    { 1, 1, 1, 1 },       { 254, 254, 254, 254 }, { 10, 200, 30, 124 },
    /* 9798 * 2 + 19235 * 1 + 3735 * 0 = 38831; + 16384 = 55215 >> 15 = 1 */
    { 2, 1, 0, 1 },
    /* 9798 + 3735 = 13533 stays below the half: 0 */
    { 1, 0, 1, 0 },
  };

  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      guint8 rgb[3] = { cases[c].r, cases[c].g, cases[c].b };
      guint8 rgba[4] = { cases[c].r, cases[c].g, cases[c].b, (guint8) (c * 37) };
      guint8 bgra[4] = { cases[c].b, cases[c].g, cases[c].r, 255 };
      guint8 y[3] = { 0 };
      guint expect = (9798u * cases[c].r + 19235u * cases[c].g + 3735u * cases[c].b + 16384u) >> 15;

      g_assert_cmpuint (expect, ==, cases[c].y);
      ref->gray_from_rgb8 (rgb, &y[0], 1);
      ref->gray_from_rgba8 (rgba, &y[1], 1);
      ref->gray_from_bgra8 (bgra, &y[2], 1);
      for (int i = 0; i < 3; i++)
        g_assert_cmpuint (y[i], ==, cases[c].y);
    }
}

/* kk_gray_rows over a whole image with odd strides on both sides, in two row
 * ranges, for every format and every table this CPU runs (scalar included:
 * the oracle here is the formula, so the format-to-kernel mapping is checked
 * too); the padding between destination rows must stay untouched. */
static void
check_gray_rows_one (const kk_kernels *k, kk_pixel_format format, size_t width, size_t height,
                     GRand *rand)
{
  const size_t bpp = kk_pixel_format_channels (format);
  const size_t r_at = (format == KK_PIXEL_BGRA8 || format == KK_PIXEL_BGRX8) ? 2 : 0;
  const size_t b_at = 2 - r_at;
  const size_t src_stride = (width * bpp + 4) | 1;
  const size_t dst_stride = (width + 2) | 1;
  const size_t dst_bytes = dst_stride * height;
  g_autofree guint8 *src = g_malloc (src_stride * height);
  g_autofree guint8 *dst = g_malloc (dst_bytes + KK_TEST_GUARD);
  kk_image_view view = { src, width, height, src_stride, format };
  const size_t split = height / 3;

  g_assert_cmpuint (src_stride % 2, ==, 1);
  kk_test_fill_random (rand, src, src_stride * height);
  memset (dst, KK_TEST_GUARD_BYTE, dst_bytes + KK_TEST_GUARD);

  g_assert_true (kk_gray_rows (k, &view, dst, dst_stride, 0, split));
  /* a range running past the image is clipped to it */
  g_assert_true (kk_gray_rows (k, &view, dst, dst_stride, split, height + 7));

  for (size_t y = 0; y < height; y++)
    {
      const guint8 *row = src + y * src_stride;
      const guint8 *out = dst + y * dst_stride;

      for (size_t x = 0; x < width; x++)
        {
          const guint8 *px = row + x * bpp;
          guint want = (9798u * px[r_at] + 19235u * px[1] + 3735u * px[b_at] + 16384u) >> 15;
          if (out[x] != want)
            g_error ("kk_gray_rows %s %s %zux%zu: (%zu, %zu) is %u, expected %u",
                     kk_isa_name (k->isa), fmt_label (format), width, height, x, y, out[x], want);
        }
      for (size_t x = width; x < dst_stride; x++)
        if (out[x] != KK_TEST_GUARD_BYTE)
          g_error ("kk_gray_rows %s %s wrote into the row padding at (%zu, %zu)",
                   kk_isa_name (k->isa), fmt_label (format), x, y);
    }
  kk_test_assert_untouched_after (dst + dst_bytes, KK_TEST_GUARD);
}

static void
check_gray_rows_table (const kk_kernels *k, GRand *rand)
{
  const kk_pixel_format formats[] = { KK_PIXEL_RGB8, KK_PIXEL_RGBA8, KK_PIXEL_BGRA8, KK_PIXEL_BGRX8 };
  const size_t shapes[][2] = { { 1, 1 }, { 37, 5 }, { 317, 41 }, { 1920, 1080 } };
  guint8 dst[4];
  guint8 gray[4] = { 0 };
  kk_image_view gray_view = { gray, 2, 2, 2, KK_PIXEL_GRAY8 };

  for (gsize f = 0; f < G_N_ELEMENTS (formats); f++)
    for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++)
      check_gray_rows_one (k, formats[f], shapes[s][0], shapes[s][1], rand);

  /* Gray8 has nothing to convert: refused, not copied */
  g_assert_false (kk_gray_rows (k, &gray_view, dst, 2, 0, 2));
}

static void
gray_rows_isa (const kk_kernels *ref, const kk_kernels *isa, gpointer data)
{
  check_gray_rows_table (isa, data);
}

static void
test_gray_rows (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (0x60A5);

  check_gray_rows_table (kk_kernels_get (KK_ISA_SCALAR), rand);
  kk_test_each_isa (gray_rows_isa, rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/colour/reference-values", test_reference_values);
  g_test_add_func ("/colour/rgb8", test_rgb8);
  g_test_add_func ("/colour/rgba8", test_rgba8);
  g_test_add_func ("/colour/bgra8", test_bgra8);
  g_test_add_func ("/colour/page-end", test_page_end);
  g_test_add_func ("/colour/gray-rows", test_gray_rows);

  return g_test_run ();
}
