/* blazeface-plugin.c — the BlazeFace task decoder as a Kestrel plugin.
 *
 * Applies to models with one NHWC float image input [1,H,W,3] and four
 * outputs: raw scores [1,N0,1] and [1,N1,1] and boxes with keypoints
 * [1,N0,16] and [1,N1,16] (the ONNX conversions of MediaPipe's front and back
 * models split the 896 anchors into heads of 512 and 384). Outputs are
 * paired by anchor count, whatever their order in the model; the anchor
 * grids follow from the counts and the input size (blazeface-anchors.h).
 *
 * Frames go in as MediaPipe feeds them: RGB scaled to [-1, 1], letterboxed
 * by default with black (-1) bars so faces keep their proportions.
 */
#include "config.h"

#include "blazeface-anchors.h"
#include "blazeface-decode.h"
#include "kestrel-error.h"
#include "kestrel-plugin.h"

#define N_HEADS 2

typedef struct {
  float input_width, input_height;
  guint n_anchors;
  BfAnchor *anchors;
  /* In anchor order: the head's first anchor, its count, and which
   * outputs (in pattern order) hold its scores and boxes. */
  guint head_first[N_HEADS], head_count[N_HEADS];
  guint head_scores[N_HEADS], head_boxes[N_HEADS];
  /* Scratch for decode(), sized for every anchor passing. */
  BfCandidate *candidates, *merged;
  guint *order;
} Blazeface;

static const char *const labels[] = { "face", NULL };
static const char *const keypoint_names[] = {
  "right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear_tragion", "left_ear_tragion", NULL,
};

static const KestrelTensorPattern input_patterns[] = {
  { NULL, KESTREL_DTYPE_FLOAT32, 4, { 1, -1, -1, 3 } },
};

/* Scores of both heads, then boxes of both heads. */
static const KestrelTensorPattern output_patterns[] = {
  { NULL, KESTREL_DTYPE_FLOAT32, 3, { 1, -1, 1 } },
  { NULL, KESTREL_DTYPE_FLOAT32, 3, { 1, -1, 1 } },
  { NULL, KESTREL_DTYPE_FLOAT32, 3, { 1, -1, BF_N_COORDS } },
  { NULL, KESTREL_DTYPE_FLOAT32, 3, { 1, -1, BF_N_COORDS } },
};

static void
blazeface_destroy (gpointer state)
{
  Blazeface *self = state;

  if (self == NULL)
    return;
  g_free (self->anchors);
  g_free (self->candidates);
  g_free (self->merged);
  g_free (self->order);
  g_free (self);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Blazeface, blazeface_destroy)

static gpointer
blazeface_create (const KestrelValue *const *inputs, const KestrelValue *const *outputs,
                  kk_model_input_params *input, GError **error)
{
  const gint64 height = inputs[0]->shape[1], width = inputs[0]->shape[2];
  const guint head_layers[N_HEADS] = { 1, 3 };
  guint scores_n[N_HEADS] = { (guint) outputs[0]->shape[1], (guint) outputs[1]->shape[1] };
  guint boxes_n[N_HEADS] = { (guint) outputs[2]->shape[1], (guint) outputs[3]->shape[1] };
  g_autoptr(Blazeface) self = g_new0 (Blazeface, 1);
  g_autoptr(GError) first_error = NULL;
  BfAnchorOptions options;

  if (width < 1 || height < 1 || width > 8192 || height > 8192)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED, "input size %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT,
                   width, height);
      return NULL;
    }

  /* Pair scores with boxes by anchor count. */
  guint box_of[N_HEADS];
  if (scores_n[0] == boxes_n[0] && scores_n[1] == boxes_n[1])
    box_of[0] = 2, box_of[1] = 3;
  else if (scores_n[0] == boxes_n[1] && scores_n[1] == boxes_n[0])
    box_of[0] = 3, box_of[1] = 2;
  else
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                   "score outputs of %u and %u anchors do not pair with box outputs of %u and %u",
                   scores_n[0], scores_n[1], boxes_n[0], boxes_n[1]);
      return NULL;
    }

  /* Which head is the fine grid (one layer) is not given by the output
   * order of every conversion: try both. */
  for (guint swap = 0; swap < 2; swap++)
    {
      guint h0 = swap, h1 = 1 - swap;
      guint counts[N_HEADS] = { scores_n[h0], scores_n[h1] };
      g_autoptr(GError) local_error = NULL;

      if (!bf_anchor_options_derive ((guint) width, (guint) height, counts, head_layers, N_HEADS, &options,
                                     &local_error))
        {
          if (first_error == NULL)
            first_error = g_steal_pointer (&local_error);
          continue;
        }
      self->head_scores[0] = h0;
      self->head_scores[1] = h1;
      self->head_boxes[0] = box_of[h0];
      self->head_boxes[1] = box_of[h1];
      self->head_count[0] = counts[0];
      self->head_count[1] = counts[1];
      self->head_first[0] = 0;
      self->head_first[1] = counts[0];
      g_clear_error (&first_error);
      break;
    }
  if (first_error != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&first_error), "no BlazeFace anchors fit: ");
      return NULL;
    }

  self->input_width = (float) width;
  self->input_height = (float) height;
  self->n_anchors = bf_anchors_count (&options);
  g_assert (self->n_anchors == self->head_count[0] + self->head_count[1]);
  self->anchors = g_new (BfAnchor, self->n_anchors);
  bf_anchors_generate (&options, self->anchors, self->n_anchors);
  self->candidates = g_new (BfCandidate, self->n_anchors);
  self->merged = g_new (BfCandidate, self->n_anchors);
  self->order = g_new (guint, self->n_anchors);

  *input = (kk_model_input_params) {
    .width = (size_t) width,
    .height = (size_t) height,
    .layout = KK_LAYOUT_NHWC,
    .scale = { 1.0f / 127.5f, 1.0f / 127.5f, 1.0f / 127.5f },
    .offset = { -1.0f, -1.0f, -1.0f },
    .letterbox = TRUE,
    .pad = { -1.0f, -1.0f, -1.0f },
  };
  return g_steal_pointer (&self);
}

static gboolean
blazeface_decode (gpointer state, const KestrelTensorView *const *outputs, const KestrelFrameInfo *frame,
                  const KestrelDecodeOptions *options, KestrelDetections *results, GError **error)
{
  Blazeface *self = state;
  guint n = 0;

  for (guint h = 0; h < N_HEADS; h++)
    n += bf_decode_head (self->anchors + self->head_first[h], self->head_count[h], self->head_first[h],
                         outputs[self->head_scores[h]]->data, outputs[self->head_boxes[h]]->data,
                         self->input_width, self->input_height, options->score_threshold,
                         self->candidates + n);

  guint n_faces = bf_weighted_nms (self->candidates, n, options->overlap_threshold, self->order, self->merged);
  for (guint i = 0; i < n_faces; i++)
    bf_candidate_to_detection (&self->merged[i], self->input_width, self->input_height, &frame->geometry,
                               kestrel_detections_append (results));
  return TRUE;
}

static const KestrelTaskDecoderVTable blazeface_decoder = {
  .name = "blazeface",
  .description = "MediaPipe BlazeFace face detector: SSD anchors, weighted non-maximum suppression, "
                 "box and 6 keypoints per face",
  .labels = labels,
  .keypoint_names = keypoint_names,
  .default_score_threshold = 0.5f,
  .default_overlap_threshold = 0.3f,
  .inputs = input_patterns,
  .n_inputs = G_N_ELEMENTS (input_patterns),
  .outputs = output_patterns,
  .n_outputs = G_N_ELEMENTS (output_patterns),
  .create = blazeface_create,
  .destroy = blazeface_destroy,
  .decode = blazeface_decode,
};

static gboolean
blazeface_plugin_init (KestrelPluginRegistrar *registrar, GError **error)
{
  kestrel_plugin_registrar_set_info (registrar, "blazeface", PACKAGE_VERSION,
                                     "Face detection with MediaPipe's BlazeFace models");
  kestrel_plugin_registrar_add_task_decoder (registrar, &blazeface_decoder);
  return TRUE;
}

KESTREL_PLUGIN_DEFINE (blazeface_plugin_init)
