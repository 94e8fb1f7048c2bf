/* source-file.c — the "file" frame source: a video decoded by GStreamer
 * (uridecodebin: whatever codecs are installed; gstreamer1.0-libav covers
 * most).
 *
 *   file:PATH[?loop=1&start=SECONDS&end=SECONDS&format=rgb&width=W&height=H]
 *
 * PATH is a file ("~/" is the home folder) or a URI with a scheme
 * (rtsp://..., which plays live: no looping). Frames come at decoding
 * speed (the engine paces); at the end the video starts again from `start`
 * unless loop=0. start/end play a part of the video (and loop that part).
 * width/height scale frames (one of them alone keeps the aspect ratio);
 * frames always have square pixels. pts_us counts from `start` and keeps
 * increasing across loops; frames are named after the file.
 */
#include "config.h"

#include <string.h>

#include "kestrel-error.h"
#include "kestrel-file.h"
#include "source-gst.h"
#include "sources-common.h"
#include "sources-vtables.h"

static const char *const file_options[] = { "loop", "start", "end", "format", "width", "height", NULL };

/* rtsp://, http://: a URI rather than a file name. */
static gboolean
is_uri (const char *location)
{
  const char *scheme_end = strstr (location, "://");

  if (scheme_end == NULL || scheme_end == location)
    return FALSE;
  for (const char *p = location; p < scheme_end; p++)
    if (!g_ascii_isalnum (*p) && *p != '+' && *p != '-' && *p != '.')
      return FALSE;
  return TRUE;
}

static gboolean
is_video_name (const char *name)
{
  g_autofree char *type = g_content_type_guess (name, NULL, 0, NULL);
  g_autofree char *mime = type != NULL ? g_content_type_get_mime_type (type) : NULL;

  return mime != NULL && g_str_has_prefix (mime, "video/");
}

static gboolean
file_accepts (const char *spec)
{
  g_autofree char *location = source_spec_dup_location (spec);
  g_autofree char *path = NULL;

  if (g_str_has_prefix (location, "rtsp://") || g_str_has_prefix (location, "rtsps://"))
    return TRUE;
  if (is_uri (location))
    return (g_str_has_prefix (location, "http://") || g_str_has_prefix (location, "https://"))
           && is_video_name (location);
  path = source_expand_home (location);
  return g_file_test (path, G_FILE_TEST_IS_REGULAR) && is_video_name (path);
}

static gpointer
file_open (const char *text, GError **error)
{
  g_autoptr(SourceSpec) spec = source_spec_parse ("file", text, file_options, error);
  SourceGstConfig config = { 0 };
  g_autofree char *uri = NULL;
  g_autofree char *what = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;

  if (spec == NULL)
    return NULL;
  if (!source_spec_get_boolean (spec, "loop", TRUE, &config.loop, error)
      || !source_spec_get_seconds (spec, "start", 0.0, &config.start, error)
      || !source_spec_get_seconds (spec, "end", -1.0, &config.end, error)
      || !source_spec_get_format (spec, KK_PIXEL_RGB8, &config.format, error)
      || !source_spec_get_uint (spec, "width", 1, 16384, 0, &config.width, error)
      || !source_spec_get_uint (spec, "height", 1, 16384, 0, &config.height, error))
    return NULL;

  if (*spec->location == '\0')
    {
      g_set_error_literal (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                           "no video file given (file:PATH)");
      return NULL;
    }
  if (!source_gst_init (error))
    return NULL;
  if (is_uri (spec->location))
    {
      uri = g_strdup (spec->location);
      what = g_strdup (uri);
      name = g_strdup (uri);
    }
  else
    {
      path = source_expand_home (spec->location);

      what = g_filename_display_name (path);
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT, "no such file: %s", what);
          return NULL;
        }
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                       "%s is a folder, not a video (images:%s reads the images in it)", what, what);
          return NULL;
        }
      /* A device or a FIFO would be read by GStreamer forever. */
      if (!kestrel_file_check (path, KESTREL_FILE_VIDEO, error))
        return NULL;
      name = g_filename_display_basename (path);
      uri = gst_filename_to_uri (path, error);
      if (uri == NULL)
        return NULL;
    }

  GstElement *decode = source_gst_make_element ("uridecodebin", NULL, error);
  if (decode == NULL)
    return NULL;
  g_object_set (decode, "uri", uri, NULL);

  config.what = what;
  config.frame_name = name;
  config.watch_path = path;   /* NULL for a URI */

  g_autoptr(GError) local_error = NULL;
  SourceGst *source = source_gst_new (&config, &decode, 1, TRUE, &local_error);
  if (source == NULL)
    {
      /* GStreamer's messages ("Could not determine type of stream.") do not
       * say which file. */
      g_set_error (error, local_error->domain, local_error->code, "%s: %s", what, local_error->message);
      return NULL;
    }
  return source;
}

const KestrelFrameSourceVTable source_file_vtable = {
  .name = "file",
  .description = "A video file through GStreamer (file:PATH[?loop=0&start=S&end=S])",
  .accepts = file_accepts,
  .open = file_open,
  .next_frame = source_gst_next_frame,
  .close = source_gst_free,
};
