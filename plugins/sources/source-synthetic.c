/* source-synthetic.c — the "synthetic" frame source: a moving test pattern
 * drawn in C, for tests and benchmarks that must not depend on files,
 * codecs or GStreamer.
 *
 *   synthetic:[?width=640&height=480&fps=30&frames=0&loop=1&format=rgb]
 *
 * Frame i is a function of i alone (integer arithmetic, no clock, no
 * randomness), so two runs give the same bytes. With frames=N the pattern
 * has N frames: loop=1 (the default) repeats them, frame i showing pattern
 * i mod N; loop=0 ends after N. frames=0 (the default) never ends.
 *
 * The pattern, in R, G, B (x, y from the top left, w x h the size):
 *   background  R = x * 255 / (w - 1), G = y * 255 / (h - 1), B = 96
 *               (0 when w or h is 1);
 *   square      white (255, 255, 255), side s = max (2, min (w, h) / 6),
 *               top left at (tri (7 p, w - s), tri (5 p, h - s)) where p is
 *               the pattern index and tri (t, r) bounces t between 0 and r:
 *               u = t mod 2r; tri = u <= r ? u : 2r - u (0 when r is 0).
 * gray is (77 R + 150 G + 29 B + 128) >> 8; the 4th byte of rgba, bgra
 * and bgrx is 255. pts_us is i * 1000000 / fps.
 */
#include "config.h"

#include <string.h>

#include "kestrel-error.h"
#include "sources-common.h"
#include "sources-vtables.h"

typedef struct {
  guint width, height, fps, frames;
  gboolean loop;
  kk_pixel_format format;
  gsize bpp, row;
  guint side;
  guint64 index;
  guint8 *background;   /* one frame of background, in the frame layout */
  guint8 white[4];
  SourceFrameBuffer buffer;
} SyntheticSource;

static const char *const synthetic_options[] = { "width", "height", "fps", "frames", "loop", "format", NULL };

static void
synthetic_source_free (SyntheticSource *self)
{
  if (self == NULL)
    return;
  source_frame_buffer_release (&self->buffer);
  g_free (self->background);
  g_free (self);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyntheticSource, synthetic_source_free)

static void
put_pixel (guint8 *p, kk_pixel_format format, guint8 r, guint8 g, guint8 b)
{
  switch (format)
    {
    case KK_PIXEL_GRAY8:
      p[0] = (guint8) ((77u * r + 150u * g + 29u * b + 128u) >> 8);
      break;
    case KK_PIXEL_RGB8:
      p[0] = r, p[1] = g, p[2] = b;
      break;
    case KK_PIXEL_RGBA8:
      p[0] = r, p[1] = g, p[2] = b, p[3] = 255;
      break;
    case KK_PIXEL_BGRA8:
    case KK_PIXEL_BGRX8:
      p[0] = b, p[1] = g, p[2] = r, p[3] = 255;
      break;
    case KK_PIXEL_COUNT:
    default:
      g_assert_not_reached ();
    }
}

static guint
tri (guint64 t, guint range)
{
  if (range == 0)
    return 0;
  guint u = (guint) (t % (2 * (guint64) range));
  return u <= range ? u : 2 * range - u;
}

static gpointer
synthetic_open (const char *text, GError **error)
{
  g_autoptr(SourceSpec) spec = source_spec_parse ("synthetic", text, synthetic_options, error);
  g_autoptr(SyntheticSource) self = NULL;

  if (spec == NULL)
    return NULL;
  if (*spec->location != '\0')
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "'%s': the synthetic source takes options only (synthetic:?width=640&height=480)",
                   spec->location);
      return NULL;
    }

  self = g_new0 (SyntheticSource, 1);
  if (!source_spec_get_uint (spec, "width", 1, 8192, 640, &self->width, error)
      || !source_spec_get_uint (spec, "height", 1, 8192, 480, &self->height, error)
      || !source_spec_get_uint (spec, "fps", 1, 1000, 30, &self->fps, error)
      || !source_spec_get_uint (spec, "frames", 0, G_MAXUINT, 0, &self->frames, error)
      || !source_spec_get_boolean (spec, "loop", TRUE, &self->loop, error)
      || !source_spec_get_format (spec, KK_PIXEL_RGB8, &self->format, error))
    return NULL;

  self->bpp = kk_pixel_format_channels (self->format);
  self->row = self->width * self->bpp;
  self->side = MAX (2, MIN (self->width, self->height) / 6);
  self->side = MIN (self->side, MIN (self->width, self->height));
  put_pixel (self->white, self->format, 255, 255, 255);

  self->background = g_malloc (self->row * self->height);
  for (guint y = 0; y < self->height; y++)
    {
      guint8 g = self->height > 1 ? (guint8) (y * 255u / (self->height - 1)) : 0;
      guint8 *p = self->background + y * self->row;
      for (guint x = 0; x < self->width; x++, p += self->bpp)
        put_pixel (p, self->format, self->width > 1 ? (guint8) (x * 255u / (self->width - 1)) : 0, g, 96);
    }
  return g_steal_pointer (&self);
}

static KestrelFrameStatus
synthetic_next_frame (gpointer source, KestrelFrame *frame, GCancellable *cancellable, GError **error)
{
  SyntheticSource *self = source;
  gsize size = self->row * self->height;

  if (self->frames > 0 && !self->loop && self->index >= self->frames)
    return KESTREL_FRAME_END;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return KESTREL_FRAME_ERROR;

  guint8 *pixels = source_frame_buffer_take (&self->buffer, size, error);
  if (pixels == NULL)
    return KESTREL_FRAME_ERROR;
  memcpy (pixels, self->background, size);

  guint64 p = self->frames > 0 ? self->index % self->frames : self->index;
  guint left = tri (7 * p, self->width - self->side);
  guint top = tri (5 * p, self->height - self->side);
  for (guint y = top; y < top + self->side; y++)
    {
      guint8 *q = pixels + y * self->row + left * self->bpp;
      for (guint x = 0; x < self->side; x++, q += self->bpp)
        memcpy (q, self->white, self->bpp);
    }

  frame->image = (kk_image_view) {
    .data = pixels,
    .width = self->width,
    .height = self->height,
    .stride = self->row,
    .format = self->format,
  };
  frame->pts_us = (gint64) (self->index * G_USEC_PER_SEC / self->fps);
  frame->name = NULL;
  self->index++;
  return KESTREL_FRAME_OK;
}

static void
synthetic_close (gpointer source)
{
  synthetic_source_free (source);
}

const KestrelFrameSourceVTable source_synthetic_vtable = {
  .name = "synthetic",
  .description = "A moving test pattern drawn in C (synthetic:?width=640&height=480)",
  .accepts = NULL,
  .open = synthetic_open,
  .next_frame = synthetic_next_frame,
  .close = synthetic_close,
};
