/* sources-test-util.h — loading the frame source plugins of this build
 * tree, and checking that frames went back to their pool. Header-only:
 * each test is one program. */
#pragma once

#include <gmodule.h>
#include <string.h>

#include "kestrel-plugin.h"
#include "kestrel-pool.h"
#include "../test-missing.h"

#define SKIMAGE_DATA "/usr/lib/python3/dist-packages/skimage/data"
#define OPENCV_DATA "/usr/share/doc/opencv-doc/examples/data"

/* A registry holding the module `file` of plugins/sources. */
static inline KestrelPluginRegistry *
test_sources_registry (const char *file)
{
  g_autoptr(KestrelPluginRegistry) registry = kestrel_plugin_registry_new ();
  g_autofree char *path = g_build_filename (TEST_PLUGIN_BUILDDIR, "sources", file, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (kestrel_plugin_registry_load_file (registry, path, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&registry);
}

typedef KestrelPool *(*TestGetPoolFunc) (void);

/* The pool the plugin `name` takes frames from, through the symbol its
 * module exports for diagnostics (the plugin API has no pool to give). */
static inline KestrelPool *
test_sources_pool (KestrelPluginRegistry *registry, const char *name)
{
  for (guint i = 0; i < kestrel_plugin_registry_get_n_plugins (registry); i++)
    {
      const KestrelPluginInfo *info = kestrel_plugin_registry_get_plugin (registry, i);
      gpointer symbol = NULL;

      if (strcmp (info->name, name) != 0)
        continue;
      /* The registry keeps the module loaded; this is one more reference
       * to the same handle, and it is never closed either. */
      GModule *module = g_module_open (info->path, G_MODULE_BIND_LOCAL);
      g_assert_nonnull (module);
      g_assert_true (g_module_symbol (module, "kestrel_sources_get_frame_pool", &symbol));
      return ((TestGetPoolFunc) symbol) ();
    }
  g_assert_not_reached ();
}

static inline gsize
test_buffers_in_use (KestrelPool *pool)
{
  KestrelPoolStats stats;
  kestrel_pool_get_stats (pool, &stats);
  return stats.buffers_in_use;
}

/* Nothing the sources lent is still out. */
static inline void
test_assert_no_outstanding (KestrelPool *pool)
{
  g_autofree char *outstanding = kestrel_pool_format_outstanding (pool);

  if (outstanding != NULL)
    g_test_message ("outstanding: %s", outstanding);
  g_assert_null (outstanding);
  g_assert_cmpuint (test_buffers_in_use (pool), ==, 0);
}

static inline guint64
test_pool_misses (KestrelPool *pool)
{
  KestrelPoolStats stats;
  kestrel_pool_get_stats (pool, &stats);
  return stats.misses;
}

/* Whether two frames have the same size, layout and pixels. */
static inline gboolean
test_views_equal (const kk_image_view *a, const kk_image_view *b)
{
  gsize row = a->width * kk_pixel_format_channels (a->format);

  if (a->width != b->width || a->height != b->height || a->format != b->format)
    return FALSE;
  for (gsize y = 0; y < a->height; y++)
    if (memcmp (a->data + y * a->stride, b->data + y * b->stride, row) != 0)
      return FALSE;
  return TRUE;
}

/* A copy of a frame's pixels (tightly packed) and its view. */
static inline guint8 *
test_copy_frame (const kk_image_view *image, kk_image_view *copy)
{
  gsize row = image->width * kk_pixel_format_channels (image->format);
  guint8 *data = g_malloc (row * image->height);

  for (gsize y = 0; y < image->height; y++)
    memcpy (data + y * row, image->data + y * image->stride, row);
  *copy = *image;
  copy->data = data;
  copy->stride = row;
  return data;
}
