/* kestrel-bench-faces.c — the "faces agreeing" column: each cell's
 * detections on the photos against the FP32 reference's.
 *
 * The second place core/bench/ uses runtime/: the model's outputs become
 * faces through the same task decoder (plugin) the engine uses, at the
 * same score threshold, and are matched by kestrel-agreement, so the
 * column means what the live agreement line means, only stricter.
 */
#include "config.h"

#include "kestrel-agreement.h"
#include "kestrel-bench-private.h"
#include "kestrel-builtin-models.h"

struct _KestrelBenchFaces
{
  KestrelTaskDecoder *decoder;
  KestrelDecodeOptions options;
  KestrelFrameInfo frame;
  GPtrArray *reference;   /* KestrelDetections*: FP32's faces, one per photo */
};

KestrelBenchFaces *
kestrel_bench_faces_new (KestrelModel *model, const char *model_name)
{
  const KestrelTaskDecoderVTable *vtable;
  KestrelTaskDecoder *decoder;
  KestrelBenchFaces *faces;
  kk_model_input_params params;

  vtable = kestrel_plugin_registry_find_task_decoder_for_model (kestrel_plugin_registry_get_default (), model, NULL);
  if (vtable == NULL || (decoder = kestrel_task_decoder_new (vtable, model, NULL)) == NULL)
    return NULL;
  faces = g_new0 (KestrelBenchFaces, 1);
  faces->decoder = decoder;
  faces->reference = g_ptr_array_new_with_free_func ((GDestroyNotify) kestrel_detections_unref);
  kestrel_decode_options_init (&faces->options);
  faces->options.score_threshold = model_name != NULL ? kestrel_builtin_model_get_score_threshold (model_name) : -1;
  /* The photos fill the whole input (kestrel_bench_photo_inputs): the
   * frame is the input itself, and faces are compared in its pixels. */
  kestrel_task_decoder_get_input_params (decoder, FALSE, &params);
  faces->frame.width = params.width;
  faces->frame.height = params.height;
  kk_model_input_geometry_compute (params.width, params.height, &params, &faces->frame.geometry);
  return faces;
}

void
kestrel_bench_faces_free (KestrelBenchFaces *faces)
{
  if (faces == NULL)
    return;
  kestrel_task_decoder_free (faces->decoder);
  g_ptr_array_unref (faces->reference);
  g_free (faces);
}

static KestrelDetections *
decode (KestrelBenchFaces *faces, KestrelPlan *plan, guint item)
{
  KestrelDetections *found = kestrel_detections_new ();

  if (!kestrel_task_decoder_decode_plan_item (faces->decoder, plan, item, &faces->frame, &faces->options, found,
                                              NULL))
    g_clear_pointer (&found, kestrel_detections_unref);
  return found;
}

gboolean
kestrel_bench_faces_add_reference (KestrelBenchFaces *faces, KestrelPlan *plan)
{
  KestrelDetections *found = decode (faces, plan, 0);

  if (found == NULL)
    return FALSE;
  g_ptr_array_add (faces->reference, found);
  return TRUE;
}

void
kestrel_bench_faces_compare (KestrelBenchFaces *faces, KestrelPlan *plan, guint item, guint photo,
                             KestrelBenchCell *cell)
{
  g_autoptr(KestrelDetections) found = NULL;
  KestrelAgreement agreement;

  if (photo >= faces->reference->len || cell->faces_fp32 < 0)
    return;
  found = decode (faces, plan, item);
  if (found == NULL)
    {
      cell->faces_fp32 = -1;   /* a decoder that fails once has no column */
      return;
    }
  kestrel_agreement_compare_within (faces->reference->pdata[photo], found, KESTREL_BENCH_FACES_MIN_IOU,
                                    KESTREL_BENCH_FACES_MAX_SCORE_DIFFERENCE, &agreement);
  cell->faces_fp32 += agreement.fp32_faces;
  cell->faces_matched += agreement.matched_faces;
  cell->faces_extra += agreement.extra_faces;
}
