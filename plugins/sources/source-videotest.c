/* source-videotest.c — the "videotest" frame source: GStreamer's
 * videotestsrc through the same appsink path as files and cameras, so that
 * path can be tested (and demonstrated) without a file or a camera.
 *
 *   videotest:[PATTERN][?width=640&height=480&fps=30&frames=0&loop=1&live=0&format=rgb]
 *
 * PATTERN is a videotestsrc pattern nick (ball, smpte, snow, ...; ball by
 * default), also accepted as pattern=. frames=N plays N frames, then starts
 * again (or ends, with loop=0); frames=0 never ends. By default the stream
 * is not live: frames come as fast as they are asked for, pts_us is i / fps.
 * live=1 makes it behave as a camera does (and takes the camera's path
 * through source-gst.c): frames come at `fps`, next_frame() blocks until
 * the next one, only the newest is kept, frames=N ends after N, no loop.
 */
#include "config.h"

#include "kestrel-error.h"
#include "source-gst.h"
#include "sources-common.h"
#include "sources-vtables.h"

static const char *const videotest_options[] = { "pattern", "width", "height", "fps", "frames", "loop",
                                                 "live", "format", NULL };

/* The value of videotestsrc's "pattern" property named `nick`; the error
 * lists the nicks there are. */
static gboolean
pattern_value (GstElement *src, const char *nick, gint *value, GError **error)
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (src), "pattern");
  GEnumClass *enum_class = G_PARAM_SPEC_ENUM (pspec)->enum_class;
  GEnumValue *found = g_enum_get_value_by_nick (enum_class, nick);

  if (found == NULL)
    {
      g_autoptr(GString) nicks = g_string_new (NULL);
      for (guint i = 0; i < enum_class->n_values; i++)
        g_string_append_printf (nicks, "%s%s", i > 0 ? ", " : "", enum_class->values[i].value_nick);
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "no test pattern '%s' (there are: %s)", nick, nicks->str);
      return FALSE;
    }
  *value = found->value;
  return TRUE;
}

static gpointer
videotest_open (const char *text, GError **error)
{
  g_autoptr(SourceSpec) spec = source_spec_parse ("videotest", text, videotest_options, error);
  SourceGstConfig config = { 0 };
  guint width, height, fps, frames;
  gint pattern = 0;

  if (spec == NULL)
    return NULL;
  const char *nick = source_spec_get_string (spec, "pattern", *spec->location != '\0' ? spec->location : "ball");
  if (*spec->location != '\0' && g_hash_table_contains (spec->options, "pattern"))
    {
      g_set_error_literal (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                           "the pattern is given twice (videotest:PATTERN or videotest:?pattern=PATTERN)");
      return NULL;
    }
  if (!source_spec_get_uint (spec, "width", 1, 8192, 640, &width, error)
      || !source_spec_get_uint (spec, "height", 1, 8192, 480, &height, error)
      || !source_spec_get_uint (spec, "fps", 1, 1000, 30, &fps, error)
      || !source_spec_get_uint (spec, "frames", 0, G_MAXINT, 0, &frames, error)
      || !source_spec_get_boolean (spec, "loop", TRUE, &config.loop, error)
      || !source_spec_get_boolean (spec, "live", FALSE, &config.live, error)
      || !source_spec_get_format (spec, KK_PIXEL_RGB8, &config.format, error))
    return NULL;

  if (!source_gst_init (error))
    return NULL;
  g_autoptr(GstElement) src = source_gst_make_element ("videotestsrc", NULL, error);
  if (src == NULL)
    return NULL;
  gst_object_ref_sink (src);
  if (!pattern_value (src, nick, &pattern, error))
    return NULL;
  g_object_set (src, "pattern", pattern, "is-live", config.live, NULL);

  g_autoptr(GstElement) filter = source_gst_make_element ("capsfilter", NULL, error);
  if (filter == NULL)
    return NULL;
  gst_object_ref_sink (filter);
  g_autoptr(GstCaps) caps = gst_caps_new_simple ("video/x-raw",
                                                 "width", G_TYPE_INT, (int) width,
                                                 "height", G_TYPE_INT, (int) height,
                                                 "framerate", GST_TYPE_FRACTION, (int) fps, 1,
                                                 "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1,
                                                 NULL);
  g_object_set (filter, "caps", caps, NULL);

  /* Not live, frames=N is a segment [0, N - 1/2 frames): frame N - 1
   * starts inside it, frame N after it, whatever the rounding. Looping
   * seeks back to 0 like a file. Live sources cannot seek: num-buffers. */
  config.start = 0.0;
  config.end = frames > 0 && !config.live ? (frames - 0.5) / fps : -1.0;
  if (config.live && frames > 0)
    g_object_set (src, "num-buffers", (int) frames, NULL);
  config.what = "videotest";
  config.frame_name = NULL;

  GstElement *head[] = { src, filter };
  return source_gst_new (&config, head, G_N_ELEMENTS (head), FALSE, error);
}

const KestrelFrameSourceVTable source_videotest_vtable = {
  .name = "videotest",
  .description = "GStreamer's test pattern (videotest:ball?width=640&height=480)",
  .accepts = NULL,
  .open = videotest_open,
  .next_frame = source_gst_next_frame,
  .close = source_gst_free,
};
