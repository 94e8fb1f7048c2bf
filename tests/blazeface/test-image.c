/* test-image.c — decoding photos with gdk-pixbuf, refusing broken files
 * with a message, and turning frames into BlazeFace inputs.
 */
#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "kestrel-error.h"
#include "kestrel-image.h"
#include "../test-missing.h"

#define ASTRONAUT "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"
#define CAMERA "/usr/lib/python3/dist-packages/skimage/data/camera.png"
#define GRACE_HOPPER "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg"

static void
test_load_photos (void)
{
  g_autoptr(GError) error = NULL;

  if (!test_have_path (ASTRONAUT) || !test_have_path (GRACE_HOPPER) || !test_have_path (CAMERA))
    return;

  g_autoptr(KestrelImage) astronaut = kestrel_image_new_from_file (ASTRONAUT, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kestrel_image_get_width (astronaut), ==, 512);
  g_assert_cmpuint (kestrel_image_get_height (astronaut), ==, 512);
  const kk_image_view *v = kestrel_image_get_view (astronaut);
  g_assert_cmpint (v->format, ==, KK_PIXEL_RGB8);
  g_assert_cmpuint (v->stride, >=, 512 * 3);

  g_autoptr(KestrelImage) grace = kestrel_image_new_from_file (GRACE_HOPPER, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kestrel_image_get_width (grace), ==, 512);
  g_assert_cmpuint (kestrel_image_get_height (grace), ==, 600);

  /* A gray PNG comes out as RGB. */
  g_autoptr(KestrelImage) camera = kestrel_image_new_from_file (CAMERA, &error);
  g_assert_no_error (error);
  v = kestrel_image_get_view (camera);
  g_assert_true (v->format == KK_PIXEL_RGB8 || v->format == KK_PIXEL_RGBA8);
  const guint8 *px = v->data + 100 * v->stride + 100 * kk_pixel_format_channels (v->format);
  g_assert_cmpuint (px[0], ==, px[1]);
  g_assert_cmpuint (px[1], ==, px[2]);
}

static GBytes *
png_bytes (guint width, guint height, gboolean alpha)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, alpha, 8, (int) width, (int) height);
  g_autofree char *buffer = NULL;
  gsize size = 0;

  gdk_pixbuf_fill (pixbuf, 0xff000080);   /* red, half transparent */
  g_assert_true (gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &size, "png", NULL, NULL));
  return g_bytes_new_take (g_steal_pointer (&buffer), size);
}

static void
test_load_rgba (void)
{
  g_autoptr(GBytes) bytes = png_bytes (7, 5, TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelImage) image = kestrel_image_new_from_bytes (bytes, "red.png", &error);

  g_assert_no_error (error);
  const kk_image_view *v = kestrel_image_get_view (image);
  g_assert_cmpint (v->format, ==, KK_PIXEL_RGBA8);
  g_assert_cmpuint (v->width, ==, 7);
  g_assert_cmpuint (v->height, ==, 5);
  g_assert_cmpuint (v->data[4 * 6 + 0], ==, 255);
  g_assert_cmpuint (v->data[4 * 6 + 1], ==, 0);
  g_assert_cmpuint (v->data[4 * 6 + 3], ==, 0x80);
}

static char *
write_temp (const char *dir, const char *name, const void *data, gsize size)
{
  char *path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, data, (gssize) size, NULL));
  return path;
}

/* Broken files give errors naming the file, never a crash. */
static void
test_broken_files (void)
{
  g_autofree char *dir = g_dir_make_tmp ("kestrel-image-XXXXXX", NULL);
  g_autoptr(GPtrArray) cleanup = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) png = png_bytes (64, 48, FALSE);
  gsize png_size = g_bytes_get_size (png);

  /* Missing. */
  g_autofree char *missing = g_build_filename (dir, "missing.png", NULL);
  g_assert_null (kestrel_image_new_from_file (missing, &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "missing.png"));
  g_clear_error (&error);

  /* Empty, garbage, a truncated PNG, a PNG with its header only. */
  struct {
    const char *name;
    gsize size;
    const void *data;
  } cases[] = {
    { "empty.png", 0, "" },
    { "garbage.jpg", 23, "this is not an image!!!" },
    { "truncated.png", png_size / 2, g_bytes_get_data (png, NULL) },
    { "header-only.png", 16, g_bytes_get_data (png, NULL) },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char *path = write_temp (dir, cases[i].name, cases[i].data, cases[i].size);
      g_ptr_array_add (cleanup, path);
      g_assert_null (kestrel_image_new_from_file (path, &error));
      g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, cases[i].name));
      g_clear_error (&error);
    }

  /* Truncated copies of real photos, cut at several places. gdk-pixbuf
   * alone would decode them into half-blank pictures. */
  const char *photos[] = { ASTRONAUT, GRACE_HOPPER, CAMERA };
  const double cuts[] = { 0.05, 0.33, 0.9, 0.999 };
  for (gsize i = 0; i < G_N_ELEMENTS (photos); i++)
    {
      g_autofree char *contents = NULL;
      gsize size = 0;
      if (!test_have_path (photos[i]) || !g_file_get_contents (photos[i], &contents, &size, NULL))
        continue;
      g_autofree char *base = g_path_get_basename (photos[i]);
      for (gsize c = 0; c < G_N_ELEMENTS (cuts); c++)
        {
          g_autofree char *name = g_strdup_printf ("truncated-%.3f-%s", cuts[c], base);
          char *path = write_temp (dir, name, contents, (gsize) ((double) size * cuts[c]));
          g_ptr_array_add (cleanup, path);

          g_assert_null (kestrel_image_new_from_file (path, &error));
          g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT);
          g_assert_nonnull (strstr (error->message, name));
          g_test_message ("%s", error->message);
          g_clear_error (&error);
        }
    }

  for (guint i = 0; i < cleanup->len; i++)
    g_unlink (g_ptr_array_index (cleanup, i));
  g_rmdir (dir);
}

static kk_model_input_params
blazeface_params (size_t size, gboolean letterbox)
{
  return (kk_model_input_params) {
    .width = size,
    .height = size,
    .layout = KK_LAYOUT_NHWC,
    .scale = { 1.0f / 127.5f, 1.0f / 127.5f, 1.0f / 127.5f },
    .offset = { -1.0f, -1.0f, -1.0f },
    .letterbox = letterbox,
    .pad = { -1.0f, -1.0f, -1.0f },
  };
}

/* A solid frame into a letterboxed input: the content is the colour in
 * [-1, 1], the bars are black (-1), and the geometry says where. */
static void
test_fill_letterbox (void)
{
  guint8 pixels[64 * 32 * 3];
  kk_image_view frame = { pixels, 64, 32, 64 * 3, KK_PIXEL_RGB8 };
  kk_model_input_params params = blazeface_params (128, TRUE);
  kk_model_input_geometry g;
  static float tensor[128 * 128 * 3];

  for (gsize i = 0; i < sizeof pixels; i += 3)
    {
      pixels[i] = 255;
      pixels[i + 1] = 0;
      pixels[i + 2] = 51;
    }
  kestrel_image_fill_tensor (&frame, &params, kk_kernels_for_level (KK_LEVEL_SCALAR), tensor, &g);

  g_assert_cmpfloat (g.scale_x, ==, 2.0f);
  g_assert_cmpfloat (g.scale_y, ==, 2.0f);
  g_assert_cmpfloat (g.pad_x, ==, 0.0f);
  g_assert_cmpfloat (g.pad_y, ==, 32.0f);
  for (guint y = 0; y < 128; y++)
    for (guint x = 0; x < 128; x += 9)
      {
        const float *p = &tensor[(y * 128 + x) * 3];
        gboolean content = y >= 32 && y < 96;
        g_assert_cmpfloat_with_epsilon (p[0], content ? 1.0 : -1.0, 1e-5);
        g_assert_cmpfloat_with_epsilon (p[1], -1.0, 1e-5);
        g_assert_cmpfloat_with_epsilon (p[2], content ? 51 / 127.5 - 1 : -1.0, 1e-5);
      }

  /* Stretched: no bars. */
  params.letterbox = FALSE;
  kestrel_image_fill_tensor (&frame, &params, kk_kernels_for_level (KK_LEVEL_SCALAR), tensor, &g);
  g_assert_cmpfloat (g.scale_y, ==, 4.0f);
  g_assert_cmpfloat (g.pad_y, ==, 0.0f);
  g_assert_cmpfloat_with_epsilon (tensor[0], 1.0, 1e-5);
}

/* A photo through the scalar and the SIMD kernels gives the same input. */
static void
test_fill_levels_agree (void)
{
  g_autoptr(GError) error = NULL;
  static float a[256 * 256 * 3], b[256 * 256 * 3];
  kk_model_input_params params = blazeface_params (256, TRUE);

  if (!test_have_path (GRACE_HOPPER))
    return;
  g_autoptr(KestrelImage) image = kestrel_image_new_from_file (GRACE_HOPPER, &error);
  g_assert_no_error (error);

  kestrel_image_fill_tensor (kestrel_image_get_view (image), &params, kk_kernels_for_level (KK_LEVEL_SCALAR), a,
                             NULL);
  kestrel_image_fill_tensor (kestrel_image_get_view (image), &params, kk_kernels_for_level (KK_LEVEL_FULL), b,
                             NULL);
  float worst = 0.0f;
  for (gsize i = 0; i < G_N_ELEMENTS (a); i++)
    worst = MAX (worst, fabsf (a[i] - b[i]));
  g_test_message ("largest scalar/%s difference %g", kk_isa_name (kk_level_isa (KK_LEVEL_FULL)), (double) worst);
  g_assert_cmpfloat (worst, <=, 1e-5f);
  /* The portrait is taller than wide: bars left and right. */
  g_assert_cmpfloat_with_epsilon (a[0], -1.0, 1e-6);
  g_assert_cmpfloat (a[(128 * 256 + 128) * 3], >, -1.0f);
}

static void
test_check_input (void)
{
  kk_model_input_params params = blazeface_params (128, TRUE);
  float data[4] = { 0 };
  KestrelTensorView good = { KESTREL_DTYPE_FLOAT32, 4, { 1, 128, 128, 3 }, 128 * 128 * 3, data };
  KestrelTensorView nchw = { KESTREL_DTYPE_FLOAT32, 4, { 1, 3, 128, 128 }, 128 * 128 * 3, data };
  KestrelTensorView small = { KESTREL_DTYPE_FLOAT32, 4, { 1, 64, 64, 3 }, 64 * 64 * 3, data };
  g_autoptr(GError) error = NULL;

  g_assert_true (kestrel_image_check_input (&good, &params, &error));
  g_assert_no_error (error);
  g_assert_false (kestrel_image_check_input (&nchw, &params, &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  params.layout = KK_LAYOUT_NCHW;
  g_assert_true (kestrel_image_check_input (&nchw, &params, &error));
  g_assert_false (kestrel_image_check_input (&small, &params, &error));
  g_assert_nonnull (strstr (error->message, "[1,64,64,3]"));
  g_assert_nonnull (strstr (error->message, "[1,3,128,128]"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/image/load/photos", test_load_photos);
  g_test_add_func ("/image/load/rgba", test_load_rgba);
  g_test_add_func ("/image/load/broken", test_broken_files);
  g_test_add_func ("/image/input/letterbox", test_fill_letterbox);
  g_test_add_func ("/image/input/levels-agree", test_fill_levels_agree);
  g_test_add_func ("/image/input/check", test_check_input);
  return g_test_run ();
}
