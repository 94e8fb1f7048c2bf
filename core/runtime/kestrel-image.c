/* kestrel-image.c — still images through gdk-pixbuf, and frames into model
 * inputs.
 *
 * Files are read whole and decoded from memory so that a missing file and
 * a corrupt one give distinct messages, both naming the file. gdk-pixbuf
 * 2.42 accepts a truncated PNG or JPEG as an image (rows it never got are
 * left blank, or gray from libjpeg), so those two formats are also checked
 * for their end marker. Other formats rely on their loader's own errors.
 *
 * The pixel count is checked when the loader has read the header and
 * before it allocates: setting the size to 0x0 in "size-prepared" makes
 * gdk-pixbuf's loaders stop with an error instead of decoding.
 */
#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <string.h>

#include "kestrel-error.h"
#include "kestrel-file.h"
#include "kestrel-image.h"

struct _KestrelImage {
  gatomicrefcount ref_count;
  GdkPixbuf *pixbuf;
  kk_image_view view;
};

static KestrelImage *
image_new_from_pixbuf (GdkPixbuf *pixbuf, const char *origin, GError **error)
{
  int n_channels = gdk_pixbuf_get_n_channels (pixbuf);
  gboolean has_alpha = gdk_pixbuf_get_has_alpha (pixbuf);

  /* gdk-pixbuf only ever makes 8-bit RGB and RGBA, but a loader module
   * from elsewhere could break that; say so rather than misread memory. */
  if (gdk_pixbuf_get_colorspace (pixbuf) != GDK_COLORSPACE_RGB || gdk_pixbuf_get_bits_per_sample (pixbuf) != 8
      || n_channels != (has_alpha ? 4 : 3) || gdk_pixbuf_get_width (pixbuf) <= 0
      || gdk_pixbuf_get_height (pixbuf) <= 0)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                   "%s: decoded to an unsupported pixel layout (%d channels, %d bits)", origin, n_channels,
                   gdk_pixbuf_get_bits_per_sample (pixbuf));
      return NULL;
    }

  KestrelImage *self = g_new0 (KestrelImage, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->pixbuf = g_object_ref (pixbuf);
  self->view = (kk_image_view) {
    .data = gdk_pixbuf_read_pixels (pixbuf),
    .width = (size_t) gdk_pixbuf_get_width (pixbuf),
    .height = (size_t) gdk_pixbuf_get_height (pixbuf),
    .stride = (size_t) gdk_pixbuf_get_rowstride (pixbuf),
    .format = has_alpha ? KK_PIXEL_RGBA8 : KK_PIXEL_RGB8,
  };
  return self;
}

/* PNG: the file must end in an IEND chunk (length 0, type, CRC). Bytes
 * after it are tolerated, as decoders do. */
static gboolean
png_complete (const guint8 *data, gsize size)
{
  static const guint8 iend[12] = { 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82 };

  for (gsize i = size >= sizeof iend ? size - sizeof iend + 1 : 0; i-- > 8;)
    if (memcmp (data + i, iend, sizeof iend) == 0)
      return TRUE;
  return FALSE;
}

/* JPEG: an end-of-image marker after the first start-of-scan. The header
 * segments are skipped by their lengths, so an EXIF thumbnail's own EOI
 * does not count; in the scan data a 0xFF byte is always followed by 0x00
 * or a marker, so FF D9 there is the real end. Data after the EOI (motion
 * photos append a video) is fine. */
static gboolean
jpeg_complete (const guint8 *data, gsize size)
{
  gsize pos = 2;

  if (size < 4 || data[0] != 0xff || data[1] != 0xd8)
    return FALSE;
  while (pos + 4 <= size)
    {
      if (data[pos] != 0xff)
        return FALSE;
      guint8 marker = data[pos + 1];
      if (marker == 0xff)
        {
          pos++;                     /* fill byte */
          continue;
        }
      if (marker == 0xd9)
        return TRUE;
      if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7))
        {
          pos += 2;                  /* markers without a length */
          continue;
        }
      gsize length = ((gsize) data[pos + 2] << 8) | data[pos + 3];
      if (length < 2)
        return FALSE;
      pos += 2 + length;
      if (marker == 0xda)
        break;                       /* the first scan: entropy-coded data follows */
    }
  for (; pos + 1 < size; pos++)
    if (data[pos] == 0xff && data[pos + 1] == 0xd9)
      return TRUE;
  return FALSE;
}

typedef struct {
  int width;
  int height;
  gboolean too_large;
} SizeCheck;

static void
on_size_prepared (GdkPixbufLoader *loader,
                  int              width,
                  int              height,
                  gpointer         data)
{
  SizeCheck *check = data;

  check->width = width;
  check->height = height;
  if ((guint64) MAX (width, 0) * (guint64) MAX (height, 0) > KESTREL_IMAGE_MAX_PIXELS)
    {
      check->too_large = TRUE;
      gdk_pixbuf_loader_set_size (loader, 0, 0);
    }
}

KestrelImage *
kestrel_image_new_from_bytes (GBytes *bytes, const char *origin, GError **error)
{
  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (origin != NULL, NULL);

  g_autoptr(GdkPixbuf) oriented = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (bytes, &size);

  if (size == 0)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT, "%s: empty file, not an image", origin);
      return NULL;
    }

  /* Created here: a loader must be closed before it is dropped. */
  g_autoptr(GdkPixbufLoader) loader = gdk_pixbuf_loader_new ();
  SizeCheck check = { 0 };

  g_signal_connect (loader, "size-prepared", G_CALLBACK (on_size_prepared), &check);
  gboolean ok = gdk_pixbuf_loader_write_bytes (loader, bytes, &local_error);
  /* Close even after a failed write: the loader insists on it. */
  ok = gdk_pixbuf_loader_close (loader, ok ? &local_error : NULL) && ok;
  if (check.too_large)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "%s: the image is %d×%d pixels, more than the %u megapixels Kestrel decodes",
                   origin, check.width, check.height, KESTREL_IMAGE_MAX_PIXELS / 1000000);
      return NULL;
    }
  GdkPixbuf *decoded = gdk_pixbuf_loader_get_pixbuf (loader);
  if (!ok || decoded == NULL)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT, "%s: cannot decode the image: %s", origin,
                   local_error != NULL ? local_error->message : "unknown format");
      return NULL;
    }

  /* gdk-pixbuf hands back whatever it decoded of a truncated PNG or JPEG
   * without an error (the rest left blank or gray); feeding that to a model
   * would give answers about a picture nobody has. */
  GdkPixbufFormat *format = gdk_pixbuf_loader_get_format (loader);
  g_autofree char *format_name = format != NULL ? gdk_pixbuf_format_get_name (format) : NULL;
  if ((g_strcmp0 (format_name, "png") == 0 && !png_complete (data, size))
      || (g_strcmp0 (format_name, "jpeg") == 0 && !jpeg_complete (data, size)))
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                   "%s: truncated %s file (it ends before the image does)", origin, format_name);
      return NULL;
    }

  /* NULL when there is nothing to rotate. */
  oriented = gdk_pixbuf_apply_embedded_orientation (decoded);
  return image_new_from_pixbuf (oriented != NULL ? oriented : decoded, origin, error);
}

KestrelImage *
kestrel_image_new_from_file (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  g_autofree char *origin = g_filename_display_name (path);
  g_autoptr(GBytes) bytes = kestrel_file_read (path, KESTREL_FILE_IMAGE, error);

  if (bytes == NULL)
    return NULL;
  return kestrel_image_new_from_bytes (bytes, origin, error);
}

KestrelImage *
kestrel_image_ref (KestrelImage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
kestrel_image_unref (KestrelImage *self)
{
  g_return_if_fail (self != NULL);
  if (g_atomic_ref_count_dec (&self->ref_count))
    {
      g_object_unref (self->pixbuf);
      g_free (self);
    }
}

guint
kestrel_image_get_width (const KestrelImage *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return (guint) self->view.width;
}

guint
kestrel_image_get_height (const KestrelImage *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return (guint) self->view.height;
}

const kk_image_view *
kestrel_image_get_view (const KestrelImage *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return &self->view;
}

/* ---- Frames into model inputs ---------------------------------------------- */

void
kestrel_image_fill_tensor (const kk_image_view *frame, const kk_model_input_params *params,
                           const kk_kernels *kernels, float *tensor, kk_model_input_geometry *geometry)
{
  g_return_if_fail (frame != NULL && params != NULL && kernels != NULL && tensor != NULL);

  /* One call over all rows, on this thread: the kernel's cost scales with
   * the tensor (tens of thousands of pixels), not the frame, so splitting
   * it across the pool would cost more in wake-ups than it saves. */
  kernels->model_input (frame, tensor, params, 0, params->height);
  if (geometry != NULL)
    kk_model_input_geometry_compute (frame->width, frame->height, params, geometry);
}

gboolean
kestrel_image_check_input (const KestrelTensorView *view, const kk_model_input_params *params,
                           GError **error)
{
  g_return_val_if_fail (view != NULL && params != NULL, FALSE);

  gint64 want[4];
  if (params->layout == KK_LAYOUT_NHWC)
    memcpy (want, (gint64[4]) { 1, (gint64) params->height, (gint64) params->width, 3 }, sizeof want);
  else
    memcpy (want, (gint64[4]) { 1, 3, (gint64) params->height, (gint64) params->width }, sizeof want);

  gboolean ok = view->dtype == KESTREL_DTYPE_FLOAT32 && view->n_dims == 4 && view->data != NULL;
  for (guint d = 0; ok && d < 4; d++)
    ok = view->shape[d] == want[d];
  if (!ok)
    {
      g_autofree char *have = kestrel_shape_to_string (view->n_dims, view->shape);
      g_autofree char *expected = kestrel_shape_to_string (4, want);
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "the image input is %s%s, expected float32%s", kestrel_dtype_get_name (view->dtype), have,
                   expected);
    }
  return ok;
}

gboolean
kestrel_image_fill_plan_input (KestrelPlan *plan, guint input, const kk_image_view *frame,
                               const kk_model_input_params *params, kk_model_input_geometry *geometry,
                               GError **error)
{
  g_return_val_if_fail (plan != NULL && frame != NULL && params != NULL, FALSE);

  if (input >= kestrel_plan_get_n_inputs (plan))
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT, "the plan has no input %u", input);
      return FALSE;
    }

  const KestrelTensorView *view = kestrel_plan_get_input (plan, input);
  if (!kestrel_image_check_input (view, params, error))
    return FALSE;

  const kk_kernels *kernels = kk_kernels_for_level (kestrel_plan_get_options (plan)->level);
  kestrel_image_fill_tensor (frame, params, kernels, view->data, geometry);
  return TRUE;
}
