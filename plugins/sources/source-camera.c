/* source-camera.c — the "camera" frame source, through GStreamer.
 *
 *   camera:[DEVICE][?format=rgb&width=W&height=H]
 *
 * With no DEVICE, the first camera GStreamer's device monitor lists
 * ("Video/Source": V4L2 devices, and PipeWire cameras when the PipeWire
 * GStreamer plugin is installed and the session's PipeWire shows them).
 * DEVICE is a V4L2 device path (/dev/video0), read with v4l2src. There is
 * no camera portal support yet: inside a Flatpak sandbox only devices the
 * sandbox can open directly work.
 *
 * The camera decides the frame rate; next_frame() blocks until its next
 * frame, and only the newest frame is kept, so a slow consumer never
 * works through a backlog. A camera that fails (unplugged) gives one ERROR
 * with GStreamer's message, then END. pts_us counts from the first frame.
 */
#include "config.h"

#include <string.h>

#include "kestrel-error.h"
#include "source-gst.h"
#include "sources-common.h"
#include "sources-vtables.h"

static const char *const camera_options[] = { "format", "width", "height", NULL };

static gboolean
camera_accepts (const char *spec)
{
  g_autofree char *location = source_spec_dup_location (spec);
  return g_str_has_prefix (location, "/dev/video");
}

/* The first camera the device monitor knows, as an element, and its name. */
static GstElement *
find_camera (char **name, GError **error)
{
  g_autoptr(GstDeviceMonitor) monitor = gst_device_monitor_new ();
  GstElement *element = NULL;
  GList *devices;

  gst_device_monitor_add_filter (monitor, "Video/Source", NULL);
  if (!gst_device_monitor_start (monitor))
    {
      g_set_error_literal (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                           "no camera found (GStreamer cannot list video devices here)");
      return NULL;
    }
  devices = gst_device_monitor_get_devices (monitor);
  gst_device_monitor_stop (monitor);

  for (GList *l = devices; l != NULL && element == NULL; l = l->next)
    {
      element = gst_device_create_element (l->data, NULL);
      if (element != NULL)
        *name = gst_device_get_display_name (l->data);
    }
  g_list_free_full (devices, gst_object_unref);

  if (element == NULL)
    g_set_error_literal (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                         "no camera found (is one plugged in?)");
  return element;
}

static gpointer
camera_open (const char *text, GError **error)
{
  g_autoptr(SourceSpec) spec = source_spec_parse ("camera", text, camera_options, error);
  SourceGstConfig config = { 0 };
  g_autofree char *name = NULL;
  GstElement *camera;

  if (spec == NULL)
    return NULL;
  if (!source_spec_get_format (spec, KK_PIXEL_RGB8, &config.format, error)
      || !source_spec_get_uint (spec, "width", 1, 16384, 0, &config.width, error)
      || !source_spec_get_uint (spec, "height", 1, 16384, 0, &config.height, error))
    return NULL;

  if (*spec->location != '\0')
    {
      name = g_filename_display_name (spec->location);
      /* A clearer message than v4l2src's "Cannot identify device". */
      if (!g_file_test (spec->location, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                       "no camera found at %s (no such device)", name);
          return NULL;
        }
      if (!source_gst_init (error))
        return NULL;
      if ((camera = source_gst_make_element ("v4l2src", NULL, error)) == NULL)
        return NULL;
      g_object_set (camera, "device", spec->location, NULL);
    }
  else
    {
      if (!source_gst_init (error))
        return NULL;
      if ((camera = find_camera (&name, error)) == NULL)
        return NULL;
    }

  /* Many webcams give their larger sizes as MJPEG only. */
  GstElement *decode = source_gst_make_element ("decodebin", NULL, error);
  if (decode == NULL)
    {
      gst_object_unref (gst_object_ref_sink (camera));
      return NULL;
    }

  config.what = name;
  config.frame_name = name;
  config.live = TRUE;
  config.end = -1.0;

  GstElement *head[] = { camera, decode };
  g_autoptr(GError) local_error = NULL;
  SourceGst *source = source_gst_new (&config, head, G_N_ELEMENTS (head), TRUE, &local_error);
  if (source == NULL)
    {
      g_set_error (error, local_error->domain, local_error->code, "camera %s: %s", name, local_error->message);
      return NULL;
    }
  return source;
}

const KestrelFrameSourceVTable source_camera_vtable = {
  .name = "camera",
  .description = "A camera through GStreamer (camera: or camera:/dev/video0)",
  .accepts = camera_accepts,
  .open = camera_open,
  .next_frame = source_gst_next_frame,
  .close = source_gst_free,
};
