/* kestrel-generic-decoder.c — see kestrel-generic-decoder.h. */
#include "config.h"

#include "kestrel-generic-decoder.h"

#include <string.h>

#include "kestrel-error.h"

static const KestrelTensorPattern generic_inputs[] = {
  { NULL, KESTREL_DTYPE_FLOAT32, 4, { -1, -1, -1, -1 } },
};

static const char *const no_labels[] = { NULL };

/* No state: a non-NULL pointer all the same, as create's result says
 * whether it succeeded. */
static int generic_state;

static gpointer
generic_create (const KestrelValue *const *inputs, const KestrelValue *const *outputs,
                kk_model_input_params *input, GError **error)
{
  const KestrelValue *image = inputs[0];

  memset (input, 0, sizeof *input);
  if (image->shape[0] == 1 && image->shape[1] == 3 && image->shape[2] > 0 && image->shape[3] > 0)
    {
      input->layout = KK_LAYOUT_NCHW;
      input->height = image->shape[2];
      input->width = image->shape[3];
    }
  else if (image->shape[0] == 1 && image->shape[3] == 3 && image->shape[1] > 0 && image->shape[2] > 0)
    {
      input->layout = KK_LAYOUT_NHWC;
      input->height = image->shape[1];
      input->width = image->shape[2];
    }
  else
    {
      g_autofree char *shape = kestrel_shape_to_string (image->n_dims, image->shape);
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                   "input '%s' is %s: a picture needs 3 channels, [1,3,H,W] or [1,H,W,3]", image->name, shape);
      return NULL;
    }
  for (guint c = 0; c < 3; c++)
    {
      input->scale[c] = 1 / 255.f;
      input->offset[c] = 0;
    }
  return &generic_state;
}

static void
generic_destroy (gpointer state)
{
}

static gboolean
generic_decode (gpointer state, const KestrelTensorView *const *outputs, const KestrelFrameInfo *frame,
                const KestrelDecodeOptions *options, KestrelDetections *results, GError **error)
{
  kestrel_detections_set_frame_size (results, frame->width, frame->height);
  return TRUE;
}

const KestrelTaskDecoderVTable kestrel_generic_decoder_vtable = {
  .name = "generic",
  .description = "any model with a picture input: runs it, detects nothing",
  .labels = no_labels,
  .keypoint_names = NULL,
  .default_score_threshold = 0.5f,
  .default_overlap_threshold = 0.3f,
  .inputs = generic_inputs,
  .n_inputs = G_N_ELEMENTS (generic_inputs),
  .outputs = NULL,
  .n_outputs = 0,
  .create = generic_create,
  .destroy = generic_destroy,
  .decode = generic_decode,
};
