/* test-plugin-module.c — broken and working plugin modules for
 * test-plugins.c, one per TEST_PLUGIN_KIND:
 *
 *   1  wrong API version            4  registers nothing
 *   2  no entry point               5  a task decoder without decode()
 *   3  init fails with a reason     6  a working "synthetic" frame source
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "kestrel-error.h"
#include "kestrel-plugin.h"

#if TEST_PLUGIN_KIND == 1

G_MODULE_EXPORT extern const guint32 kestrel_plugin_api_version;
G_MODULE_EXPORT const guint32 kestrel_plugin_api_version = 999;
G_MODULE_EXPORT gboolean kestrel_plugin_init (KestrelPluginRegistrar *registrar, GError **error);
G_MODULE_EXPORT gboolean
kestrel_plugin_init (KestrelPluginRegistrar *registrar, GError **error)
{
  g_error ("a plugin of the wrong API version must never be called");
  return FALSE;
}

#elif TEST_PLUGIN_KIND == 2

G_MODULE_EXPORT int not_a_plugin (void);
G_MODULE_EXPORT int
not_a_plugin (void)
{
  return 42;
}

#elif TEST_PLUGIN_KIND == 3

static gboolean
init (KestrelPluginRegistrar *registrar, GError **error)
{
  g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_DEPENDENCY, "the frobnicator is missing");
  return FALSE;
}
KESTREL_PLUGIN_DEFINE (init)

#elif TEST_PLUGIN_KIND == 4

static gboolean
init (KestrelPluginRegistrar *registrar, GError **error)
{
  kestrel_plugin_registrar_set_info (registrar, "empty", "1", "nothing at all");
  return TRUE;
}
KESTREL_PLUGIN_DEFINE (init)

#elif TEST_PLUGIN_KIND == 5

static gpointer
create (const KestrelValue *const *inputs, const KestrelValue *const *outputs,
        kk_model_input_params *input, GError **error)
{
  return NULL;
}

static void
destroy (gpointer state)
{
}

static const KestrelTensorPattern pattern = { NULL, KESTREL_DTYPE_FLOAT32, 1, { -1 } };
static const char *const labels[] = { "thing", NULL };
static const KestrelTaskDecoderVTable broken = {
  .name = "broken",
  .labels = labels,
  .inputs = &pattern,
  .n_inputs = 1,
  .create = create,
  .destroy = destroy,
};

static gboolean
init (KestrelPluginRegistrar *registrar, GError **error)
{
  kestrel_plugin_registrar_set_info (registrar, "broken", "1", NULL);
  kestrel_plugin_registrar_add_task_decoder (registrar, &broken);
  return TRUE;
}
KESTREL_PLUGIN_DEFINE (init)

#elif TEST_PLUGIN_KIND == 6

/* "synthetic:WxHxN": N gray RGB frames of W x H whose pixels are the frame
 * index; "synthetic:fail" fails every other frame. */
typedef struct {
  guint width, height, n, next;
  gboolean fail;
  guint8 *pixels;
} Synthetic;

static gboolean
synthetic_accepts (const char *spec)
{
  return g_str_has_prefix (spec, "synth://");
}

static gpointer
synthetic_open (const char *spec, GError **error)
{
  Synthetic *s = g_new0 (Synthetic, 1);

  if (g_str_has_prefix (spec, "synth://"))
    spec += strlen ("synth://");
  if (strcmp (spec, "fail") == 0)
    {
      s->width = s->height = 2;
      s->n = 4;
      s->fail = TRUE;
    }
  else if (sscanf (spec, "%ux%ux%u", &s->width, &s->height, &s->n) != 3 || s->width == 0 || s->height == 0)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT, "bad size '%s'", spec);
      g_free (s);
      return NULL;
    }
  s->pixels = g_malloc0 ((gsize) s->width * s->height * 3);
  return s;
}

static KestrelFrameStatus
synthetic_next_frame (gpointer source, KestrelFrame *frame, GCancellable *cancellable, GError **error)
{
  Synthetic *s = source;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return KESTREL_FRAME_ERROR;
  if (s->next >= s->n)
    return KESTREL_FRAME_END;
  guint i = s->next++;
  if (s->fail && i % 2 == 1)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT, "frame %u is broken", i);
      return KESTREL_FRAME_ERROR;
    }
  memset (s->pixels, (int) i, (gsize) s->width * s->height * 3);
  frame->image = (kk_image_view) { s->pixels, s->width, s->height, (size_t) s->width * 3, KK_PIXEL_RGB8 };
  frame->pts_us = (gint64) i * 40000;
  frame->index = 12345;   /* the wrapper numbers frames itself */
  return KESTREL_FRAME_OK;
}

static void
synthetic_close (gpointer source)
{
  Synthetic *s = source;
  g_free (s->pixels);
  g_free (s);
}

static const KestrelFrameSourceVTable synthetic = {
  .name = "synthetic",
  .description = "test frames",
  .accepts = synthetic_accepts,
  .open = synthetic_open,
  .next_frame = synthetic_next_frame,
  .close = synthetic_close,
};

static gboolean
init (KestrelPluginRegistrar *registrar, GError **error)
{
  kestrel_plugin_registrar_set_info (registrar, "test-synthetic", "0.1", "frames for tests");
  kestrel_plugin_registrar_add_frame_source (registrar, &synthetic);
  return TRUE;
}
KESTREL_PLUGIN_DEFINE (init)

#else
#error "TEST_PLUGIN_KIND"
#endif
