/* kestrel-frame-source.c — an open frame source from a plugin.
 *
 * The wrapper keeps sources honest for their callers: frame indices count
 * up whatever the plugin sets, a frame is never handed out with an image
 * the kernels could not read, and END is sticky.
 */
#include "config.h"

#include <string.h>

#include "kestrel-error.h"
#include "kestrel-plugin-private.h"

struct _KestrelFrameSource {
  const KestrelFrameSourceVTable *vtable;
  gpointer source;
  guint64 next_index;
  gboolean ended;
};

KestrelPool *
kestrel_frame_pool_get_default (void)
{
  static KestrelPool *pool;

  /* Classes up to 64 MiB, so that a 4K frame (24 MiB as RGB) is reused
   * like any other rather than mapped and unmapped every frame. */
  if (g_once_init_enter (&pool))
    g_once_init_leave (&pool, kestrel_pool_new (64 * 1024 * 1024));
  return pool;
}

/* "images:, file:, camera:" for messages. */
static char *
dup_source_names (KestrelPluginRegistry *registry)
{
  GString *names = g_string_new (NULL);

  for (guint p = 0; p < kestrel_plugin_registry_get_n_plugins (registry); p++)
    {
      const KestrelPluginInfo *info = kestrel_plugin_registry_get_plugin (registry, p);

      for (guint i = 0; i < info->n_frame_sources; i++)
        g_string_append_printf (names, "%s%s:", names->len > 0 ? ", " : "", info->frame_sources[i]->name);
    }
  if (names->len == 0)
    g_string_append (names, "none (no frame source plugin is installed)");
  return g_string_free (names, FALSE);
}

KestrelFrameSource *
kestrel_frame_source_open (KestrelPluginRegistry *registry, const char *spec, GError **error)
{
  g_return_val_if_fail (KESTREL_IS_PLUGIN_REGISTRY (registry), NULL);
  g_return_val_if_fail (spec != NULL, NULL);

  const KestrelFrameSourceVTable *vtable = NULL;
  const char *rest = spec;
  const char *colon = strchr (spec, ':');

  if (colon != NULL)
    {
      g_autofree char *name = g_strndup (spec, colon - spec);
      vtable = kestrel_plugin_registry_find_frame_source (registry, name);
      if (vtable != NULL)
        rest = colon + 1;
    }
  if (vtable == NULL)
    vtable = kestrel_plugin_registry_find_frame_source_for_spec (registry, spec);
  if (vtable == NULL)
    {
      g_autofree char *known = dup_source_names (registry);

      /* A path of no kind a source takes: most likely a typing mistake. */
      if (strchr (spec, G_DIR_SEPARATOR) != NULL && !g_file_test (spec, G_FILE_TEST_EXISTS))
        g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                     "%s: no such file or folder", spec);
      else
        g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                     "unknown source '%s' (a source is one of %s, followed by what it reads)",
                     spec, known);
      return NULL;
    }

  g_autoptr(GError) local_error = NULL;
  gpointer source = vtable->open (rest, &local_error);
  if (source == NULL)
    {
      /* The plugin's message says what was wrong; the spec the user typed
       * is theirs already, and an empty one ("camera:") would read as ''. */
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_FAILED, "cannot open the %s source: %s",
                   vtable->name, local_error != NULL ? local_error->message : "no reason given");
      return NULL;
    }

  KestrelFrameSource *self = g_new0 (KestrelFrameSource, 1);
  self->vtable = vtable;
  self->source = source;
  return self;
}

static gboolean
image_readable (const kk_image_view *image)
{
  size_t bpp = kk_pixel_format_channels (image->format);
  return image->data != NULL && image->width > 0 && image->height > 0 && bpp > 0
         && image->stride >= image->width * bpp;
}

KestrelFrameStatus
kestrel_frame_source_next_frame (KestrelFrameSource *self, KestrelFrame *frame,
                                 GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (self != NULL, KESTREL_FRAME_END);
  g_return_val_if_fail (frame != NULL, KESTREL_FRAME_END);

  if (self->ended)
    return KESTREL_FRAME_END;

  g_autoptr(GError) local_error = NULL;
  memset (frame, 0, sizeof *frame);
  frame->pts_us = -1;
  KestrelFrameStatus status = self->vtable->next_frame (self->source, frame, cancellable, &local_error);

  switch (status)
    {
    case KESTREL_FRAME_OK:
      if (!image_readable (&frame->image))
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                       "frame source '%s' gave frame %" G_GUINT64_FORMAT " with no usable pixels",
                       self->vtable->name, self->next_index);
          self->next_index++;
          return KESTREL_FRAME_ERROR;
        }
      frame->index = self->next_index++;
      return KESTREL_FRAME_OK;

    case KESTREL_FRAME_ERROR:
      if (local_error == NULL)
        g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_FAILED, "frame source '%s' failed",
                     self->vtable->name);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      self->next_index++;
      return KESTREL_FRAME_ERROR;

    case KESTREL_FRAME_AGAIN:
      return KESTREL_FRAME_AGAIN;

    case KESTREL_FRAME_END:
    default:
      self->ended = TRUE;
      return KESTREL_FRAME_END;
    }
}

const KestrelFrameSourceVTable *
kestrel_frame_source_get_vtable (const KestrelFrameSource *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->vtable;
}

void
kestrel_frame_source_close (KestrelFrameSource *self)
{
  if (self == NULL)
    return;
  self->vtable->close (self->source);
  g_free (self);
}
