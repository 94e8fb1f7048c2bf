/* kestrel-preview-frame.c — see kestrel-preview-frame.h. */
#include "config.h"

#include "kestrel-preview-frame.h"

#include <string.h>

typedef struct {
  KestrelPreviewFrame frame;
  gint ref_count;
} PreviewFrameReal;

G_DEFINE_BOXED_TYPE (KestrelPreviewFrame, kestrel_preview_frame,
                     kestrel_preview_frame_ref, kestrel_preview_frame_unref)

/* Display copies happen a few times a second, not per frame: plain loops
 * are fast enough and keep this independent of the kernel tables. */
static void
copy_rows (const kk_image_view *image, guint8 *dst, gsize dst_stride)
{
  for (size_t y = 0; y < image->height; y++)
    {
      const guint8 *s = image->data + y * image->stride;
      guint8 *d = dst + y * dst_stride;

      switch (image->format)
        {
        case KK_PIXEL_GRAY8:
          for (size_t x = 0; x < image->width; x++)
            d[3 * x] = d[3 * x + 1] = d[3 * x + 2] = s[x];
          break;
        case KK_PIXEL_BGRX8:
          for (size_t x = 0; x < image->width; x++)
            {
              memcpy (d + 4 * x, s + 4 * x, 3);
              d[4 * x + 3] = 0xff;
            }
          break;
        case KK_PIXEL_RGB8:
        case KK_PIXEL_RGBA8:
        case KK_PIXEL_BGRA8:
        case KK_PIXEL_COUNT:
        default:
          memcpy (d, s, image->width * kk_pixel_format_channels (image->format));
          break;
        }
    }
}

KestrelPreviewFrame *
kestrel_preview_frame_new_copy (const kk_image_view *image, guint64 index,
                                KestrelDetections *detections)
{
  PreviewFrameReal *real;
  kk_pixel_format format;
  gsize stride;
  guint8 *pixels;

  g_return_val_if_fail (image != NULL && image->format < KK_PIXEL_COUNT, NULL);
  g_return_val_if_fail (detections != NULL, NULL);

  switch (image->format)
    {
    case KK_PIXEL_GRAY8: format = KK_PIXEL_RGB8; break;
    case KK_PIXEL_BGRX8: format = KK_PIXEL_BGRA8; break;
    case KK_PIXEL_RGB8:
    case KK_PIXEL_RGBA8:
    case KK_PIXEL_BGRA8:
    case KK_PIXEL_COUNT:
    default: format = image->format; break;
    }
  stride = image->width * kk_pixel_format_channels (format);
  pixels = g_malloc (MAX (stride * image->height, 1));
  copy_rows (image, pixels, stride);

  real = g_new0 (PreviewFrameReal, 1);
  real->ref_count = 1;
  real->frame.pixels = g_bytes_new_take (pixels, stride * image->height);
  real->frame.width = (guint) image->width;
  real->frame.height = (guint) image->height;
  real->frame.stride = stride;
  real->frame.format = format;
  real->frame.index = index;
  real->frame.detections = kestrel_detections_ref (detections);
  return &real->frame;
}

KestrelPreviewFrame *
kestrel_preview_frame_ref (KestrelPreviewFrame *self)
{
  PreviewFrameReal *real = (PreviewFrameReal *) self;

  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&real->ref_count);
  return self;
}

void
kestrel_preview_frame_unref (KestrelPreviewFrame *self)
{
  PreviewFrameReal *real = (PreviewFrameReal *) self;

  g_return_if_fail (self != NULL);
  if (!g_atomic_int_dec_and_test (&real->ref_count))
    return;
  g_bytes_unref (self->pixels);
  kestrel_detections_unref (self->detections);
  g_free (real);
}
