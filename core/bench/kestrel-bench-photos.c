/* kestrel-bench-photos.c — the bundled photos as model inputs, for the
 * accuracy column and the timed input.
 *
 * This is the one place core/bench/ uses runtime/: decoding photos and
 * resizing them into a model input is kestrel-image's job (gdk-pixbuf, the
 * EXIF orientation, the model-input kernels), and a second copy here would
 * drift from what the engine feeds the model.
 */
#include "config.h"

#include <string.h>

#include "kestrel-bench-private.h"
#include "kestrel-image.h"

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

GPtrArray *
kestrel_bench_photo_inputs (const KestrelTensorView *input, const char *dir)
{
  GPtrArray *inputs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) d = NULL;
  kk_model_input_params params = { 0 };
  const char *name;

  if (dir == NULL || input->dtype != KESTREL_DTYPE_FLOAT32 || input->n_dims != 4 || input->shape[0] != 1)
    return inputs;
  if (input->shape[1] == 3)
    {
      params.layout = KK_LAYOUT_NCHW;
      params.height = input->shape[2];
      params.width = input->shape[3];
    }
  else if (input->shape[3] == 3)
    {
      params.layout = KK_LAYOUT_NHWC;
      params.height = input->shape[1];
      params.width = input->shape[2];
    }
  else
    return inputs;
  for (int c = 0; c < 3; c++)
    {
      params.scale[c] = 2.0f / 255.0f;
      params.offset[c] = -1.0f;
    }

  d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return inputs;
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".png") || g_str_has_suffix (name, ".jpg") || g_str_has_suffix (name, ".jpeg"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, names->pdata[i], NULL);
      g_autoptr(KestrelImage) image = kestrel_image_new_from_file (path, NULL);
      float *data;

      if (image == NULL)
        continue;
      data = g_new (float, input->n_elements);
      kestrel_image_fill_tensor (kestrel_image_get_view (image), &params, kk_kernels_get (KK_ISA_SCALAR),
                                 data, NULL);
      g_ptr_array_add (inputs, g_bytes_new_take (data, input->n_elements * sizeof (float)));
    }
  return inputs;
}
