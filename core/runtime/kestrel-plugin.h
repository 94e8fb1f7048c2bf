/* kestrel-plugin.h — the plugin API: task decoders and frame sources in
 * GModule plugins.
 *
 * A plugin is a shared module exporting exactly two symbols, both made by
 * KESTREL_PLUGIN_DEFINE():
 *
 *   const guint32 kestrel_plugin_api_version;
 *       read before any of the plugin's code runs; a module built for
 *       another API version is refused with an error naming the file and
 *       both versions (the init function's signature may not even match);
 *   gboolean kestrel_plugin_init (KestrelPluginRegistrar *registrar, GError **error);
 *       the one entry point: says who the plugin is
 *       (kestrel_plugin_registrar_set_info) and what it provides
 *       (kestrel_plugin_registrar_add_task_decoder / _add_frame_source).
 *
 * What a plugin provides is described by const vtables that live in the
 * module, so a module that loaded is never unloaded.
 *
 * Where plugins are searched (kestrel_plugin_get_search_path), first found
 * wins when two have the same name:
 *   1. the folders of the colon-separated KESTREL_PLUGIN_PATH, in order;
 *   2. an uninstalled program (one that runs from the build tree, e.g. the
 *      tests) searches the build tree's plugins/ and its subfolders;
 *      an installed one searches KESTREL_PLUGINDIR (libdir/kestrel/plugins).
 *
 * A file that fails to load (not a module, unresolved symbols, wrong API
 * version, init failed, nothing sensible registered) never takes the
 * program down: kestrel_plugin_registry_load_file() reports it as a GError
 * naming the file and the reason, and the folder scans log it as a warning
 * and keep it for kestrel_plugin_registry_dup_load_errors().
 *
 * KESTREL_PLUGIN_API_VERSION changes whenever anything a plugin sees changes
 * incompatibly: these vtables, KestrelDetection, KestrelTensorView,
 * kk_image_view, kk_model_input_params.
 */
#pragma once

#include <gio/gio.h>
#include <gmodule.h>

#include "kestrel-detection.h"
#include "kestrel-kernels.h"
#include "kestrel-model.h"
#include "kestrel-op.h"
#include "kestrel-plan.h"
#include "kestrel-pool.h"

G_BEGIN_DECLS

#define KESTREL_PLUGIN_API_VERSION 1

/* ---- Task decoders: plan outputs -> detections ------------------------- */

/* What a model input or output must look like for a decoder to apply.
 * Matching is by shape and, when name is set, by name as well. */
typedef struct {
  const char *name;                       /* exact name, or NULL for any */
  KestrelDType dtype;
  guint n_dims;
  gint64 shape[KESTREL_TENSOR_MAX_DIMS];  /* -1: any size */
} KestrelTensorPattern;

typedef struct {
  /* Detections scoring below this are dropped; < 0: the decoder's default. */
  float score_threshold;
  /* Non-maximum suppression merges boxes overlapping more than this
   * (intersection over union); < 0: the decoder's default. */
  float overlap_threshold;
  /* Keep at most this many, best first; 0: no limit. */
  guint max_detections;
} KestrelDecodeOptions;

/* The decoder's defaults for everything. */
void kestrel_decode_options_init (KestrelDecodeOptions *options);

/* The frame behind the outputs being decoded: its size, and where it landed
 * in the model's input tensor (from kk_model_input_geometry_compute), so
 * the decoder can map tensor coordinates back to frame pixels. */
typedef struct {
  guint width, height;
  kk_model_input_geometry geometry;
} KestrelFrameInfo;

typedef struct {
  const char *name;                  /* "blazeface": short, unique, stable */
  const char *description;
  const char *const *labels;         /* NULL-terminated class names: { "face", NULL } */
  const char *const *keypoint_names; /* NULL-terminated, or NULL when there are none */
  float default_score_threshold;
  float default_overlap_threshold;

  /* The models it applies to. inputs[0] is the image input. Each pattern
   * is matched to a distinct model input/output, in the model's order. */
  const KestrelTensorPattern *inputs;
  guint n_inputs;
  const KestrelTensorPattern *outputs;
  guint n_outputs;

  /* Per-model state (anchors, scratch for decoding), given the matched
   * values in pattern order. Fills `input` with how frames must be turned
   * into inputs[0] (size, layout, scale, offset, pad; letterbox is the
   * caller's choice). NULL with an error when the model matched the
   * patterns but is still not one it can decode. */
  gpointer (*create) (const KestrelValue *const *inputs, const KestrelValue *const *outputs,
                      kk_model_input_params *input, GError **error);
  void (*destroy) (gpointer state);

  /* Decodes one frame's outputs (in pattern order, shapes as matched) into
   * `results`, which the caller has cleared. Thresholds in `options` are
   * resolved (never negative). Must not allocate once warmed up, except
   * for `results` growing. The state is used by one thread at a time. */
  gboolean (*decode) (gpointer state, const KestrelTensorView *const *outputs,
                      const KestrelFrameInfo *frame, const KestrelDecodeOptions *options,
                      KestrelDetections *results, GError **error);
} KestrelTaskDecoderVTable;

/* ---- Frame sources: images, video, camera, synthetic -------------------- */

/* A frame a source lends to its caller until the next next_frame() or
 * close(). */
typedef struct {
  kk_image_view image;
  guint64 index;       /* 0, 1, 2... in the order the source gives them */
  gint64 pts_us;       /* presentation time from the start, or -1 */
  const char *name;    /* what the frame is called (a file name), or NULL */
} KestrelFrame;

typedef enum {
  KESTREL_FRAME_OK,
  KESTREL_FRAME_END,    /* no more frames */
  /* This frame failed (error set: a corrupt file, a dropped camera). The
   * caller may ask again: a source that cannot go on answers END. */
  KESTREL_FRAME_ERROR,
  /* Nothing new yet: the source gives stills that have not changed (the
   * images source's repeat=0). frame->pts_us is the monotonic time
   * (g_get_monotonic_time()) to ask again; the caller waits as it likes,
   * so commands are not held up, and the wait is no frame's latency. */
  KESTREL_FRAME_AGAIN,
} KestrelFrameStatus;

typedef struct {
  const char *name;         /* "images", "file", "videotest", "camera", "synthetic" */
  const char *description;
  /* Whether a spec without a "name:" prefix is for this source (a folder,
   * a video file, /dev/video0). May be NULL: only "name:..." specs then. */
  gboolean (*accepts) (const char *spec);
  /* `spec` without the "name:" prefix. */
  gpointer (*open) (const char *spec, GError **error);
  /* Blocks until a frame is ready or `cancellable` is cancelled (which is
   * an ERROR with G_IO_ERROR_CANCELLED). */
  KestrelFrameStatus (*next_frame) (gpointer source, KestrelFrame *frame,
                                    GCancellable *cancellable, GError **error);
  void (*close) (gpointer source);
} KestrelFrameSourceVTable;

/* ---- What a plugin's init function gets ---------------------------------- */

typedef struct _KestrelPluginRegistrar KestrelPluginRegistrar;

/* name: short and unique ("blazeface"); version: the plugin's own. */
void kestrel_plugin_registrar_set_info (KestrelPluginRegistrar *registrar, const char *name,
                                        const char *version, const char *description);
/* The vtables must outlive the plugin (static const data). */
void kestrel_plugin_registrar_add_task_decoder (KestrelPluginRegistrar *registrar,
                                                const KestrelTaskDecoderVTable *decoder);
void kestrel_plugin_registrar_add_frame_source (KestrelPluginRegistrar *registrar,
                                                const KestrelFrameSourceVTable *source);

typedef gboolean (*KestrelPluginInitFunc) (KestrelPluginRegistrar *registrar, GError **error);

#define KESTREL_PLUGIN_API_VERSION_SYMBOL "kestrel_plugin_api_version"
#define KESTREL_PLUGIN_INIT_SYMBOL "kestrel_plugin_init"

/* In a plugin module (built with hidden visibility), once:
 *   KESTREL_PLUGIN_DEFINE (my_plugin_init)
 * where my_plugin_init is a KestrelPluginInitFunc. */
#define KESTREL_PLUGIN_DEFINE(init_func)                                              \
  G_MODULE_EXPORT extern const guint32 kestrel_plugin_api_version;                    \
  G_MODULE_EXPORT const guint32 kestrel_plugin_api_version = KESTREL_PLUGIN_API_VERSION; \
  G_MODULE_EXPORT gboolean kestrel_plugin_init (KestrelPluginRegistrar *registrar,    \
                                                GError **error);                      \
  G_MODULE_EXPORT gboolean                                                            \
  kestrel_plugin_init (KestrelPluginRegistrar *registrar, GError **error)             \
  {                                                                                   \
    return init_func (registrar, error);                                              \
  }

/* ---- The registry -------------------------------------------------------- */

/* One loaded plugin, owned by the registry. */
typedef struct {
  const char *name;
  const char *version;
  const char *description;
  const char *path;          /* the module file; NULL when registered from code */
  guint n_task_decoders;
  const KestrelTaskDecoderVTable *const *task_decoders;
  guint n_frame_sources;
  const KestrelFrameSourceVTable *const *frame_sources;
} KestrelPluginInfo;

#define KESTREL_TYPE_PLUGIN_REGISTRY (kestrel_plugin_registry_get_type ())
G_DECLARE_FINAL_TYPE (KestrelPluginRegistry, kestrel_plugin_registry, KESTREL, PLUGIN_REGISTRY, GObject)

/* The folders searched by kestrel_plugin_registry_load_default(), in order. */
char **kestrel_plugin_get_search_path (void);

/* An empty registry (tests; programs that choose their own folders). */
KestrelPluginRegistry *kestrel_plugin_registry_new (void);
/* The process-wide registry, loaded from the search path on first use.
 * Thread-safe. Transfer none. */
KestrelPluginRegistry *kestrel_plugin_registry_get_default (void);

gboolean kestrel_plugin_registry_load_file (KestrelPluginRegistry *self, const char *path,
                                            GError **error);
/* Every module in `dir` (and, with `recursive`, its subfolders one level
 * down). Failures are warnings plus load errors; a name already loaded is
 * skipped quietly (an earlier folder overrides). Returns how many loaded. */
guint kestrel_plugin_registry_load_dir (KestrelPluginRegistry *self, const char *dir,
                                        gboolean recursive);
/* The search path. Returns how many loaded. */
guint kestrel_plugin_registry_load_default (KestrelPluginRegistry *self);
/* A plugin linked into the program: runs `init` as a module's would. */
gboolean kestrel_plugin_registry_add_static (KestrelPluginRegistry *self, KestrelPluginInitFunc init,
                                             GError **error);

guint kestrel_plugin_registry_get_n_plugins (KestrelPluginRegistry *self);
const KestrelPluginInfo *kestrel_plugin_registry_get_plugin (KestrelPluginRegistry *self, guint i);
/* Messages of the failures of the folder scans so far, oldest first. */
char **kestrel_plugin_registry_dup_load_errors (KestrelPluginRegistry *self);

const KestrelTaskDecoderVTable *kestrel_plugin_registry_find_task_decoder (KestrelPluginRegistry *self,
                                                                          const char *name);
/* The first decoder whose patterns match the model; the error says why
 * none did. */
const KestrelTaskDecoderVTable *kestrel_plugin_registry_find_task_decoder_for_model (KestrelPluginRegistry *self,
                                                                                    KestrelModel *model,
                                                                                    GError **error);
const KestrelFrameSourceVTable *kestrel_plugin_registry_find_frame_source (KestrelPluginRegistry *self,
                                                                          const char *name);

/* ---- A task decoder bound to a model ------------------------------------ */

typedef struct _KestrelTaskDecoder KestrelTaskDecoder;

/* Matches the vtable's patterns against the model and creates its state;
 * the error names the model, the decoder and the mismatch. */
KestrelTaskDecoder *kestrel_task_decoder_new (const KestrelTaskDecoderVTable *vtable,
                                              KestrelModel *model, GError **error);
void kestrel_task_decoder_free (KestrelTaskDecoder *self);

const KestrelTaskDecoderVTable *kestrel_task_decoder_get_vtable (const KestrelTaskDecoder *self);
/* The model input frames go to (index into the model's inputs). */
guint kestrel_task_decoder_get_image_input (const KestrelTaskDecoder *self);
/* How to turn a frame into that input. */
void kestrel_task_decoder_get_input_params (const KestrelTaskDecoder *self, gboolean letterbox,
                                            kk_model_input_params *params);

/* Decodes outputs given in the model's output order (a plan's, or a peer's
 * read from files), after checking their shapes. `options` may be NULL.
 * Clears `results` first; leaves it sorted best first. */
gboolean kestrel_task_decoder_decode (KestrelTaskDecoder *self,
                                      const KestrelTensorView *const *model_outputs,
                                      guint n_model_outputs, const KestrelFrameInfo *frame,
                                      const KestrelDecodeOptions *options,
                                      KestrelDetections *results, GError **error);
/* The same, reading a plan's outputs after kestrel_plan_run(). */
gboolean kestrel_task_decoder_decode_plan (KestrelTaskDecoder *self, KestrelPlan *plan,
                                           const KestrelFrameInfo *frame,
                                           const KestrelDecodeOptions *options,
                                           KestrelDetections *results, GError **error);

/* The same for item `item` of a plan that runs batches: each output's
 * slice for that item (kestrel_plan_get_output_slice), which has the shape
 * of the model's output at batch 1. */
gboolean kestrel_task_decoder_decode_plan_item (KestrelTaskDecoder *self, KestrelPlan *plan,
                                                guint item, const KestrelFrameInfo *frame,
                                                const KestrelDecodeOptions *options,
                                                KestrelDetections *results, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelTaskDecoder, kestrel_task_decoder_free)

/* ---- A frame source ------------------------------------------------------ */

typedef struct _KestrelFrameSource KestrelFrameSource;

/* The pool frame sources take their frame buffers from: one per process,
 * so the engine can report (and trim, on low memory) the memory its frames
 * hold, and a buffer left out by any source shows up there by tag. */
KestrelPool *kestrel_frame_pool_get_default (void);

/* "name:rest" opens source `name` with "rest"; any other spec goes to the
 * first source whose accepts() takes it. */
KestrelFrameSource *kestrel_frame_source_open (KestrelPluginRegistry *registry, const char *spec,
                                               GError **error);
KestrelFrameStatus kestrel_frame_source_next_frame (KestrelFrameSource *self, KestrelFrame *frame,
                                                    GCancellable *cancellable, GError **error);
const KestrelFrameSourceVTable *kestrel_frame_source_get_vtable (const KestrelFrameSource *self);
void kestrel_frame_source_close (KestrelFrameSource *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelFrameSource, kestrel_frame_source_close)

G_END_DECLS
