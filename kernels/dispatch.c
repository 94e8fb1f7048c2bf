/* dispatch.c — one table of kernel pointers per instruction set, built once.
 *
 * Levels map onto tables: scalar and parallel use the reference kernels, simd
 * and full the best ISA (kk_isa_best, which honours KESTREL_ISA). Threads are
 * core/'s business; the kernels only see row ranges.
 */
#include "kk-internal.h"

#include <pthread.h>
#include <string.h>

static kk_kernels tables[KK_ISA_COUNT];
static kk_kernels exact_tables[KK_ISA_COUNT];
static bool table_hw[KK_ISA_COUNT];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

bool
kk_kernels_is_complete (const kk_kernels *t)
{
  const void *const entries[] = {
    (const void *) t->gray_from_rgb8, (const void *) t->gray_from_rgba8,
    (const void *) t->gray_from_bgra8, (const void *) t->threshold_u8,
    (const void *) t->mean_var_f32, (const void *) t->normalize_f32,
    (const void *) t->resize_bilinear_u8, (const void *) t->model_input,
    (const void *) t->f32_to_f16, (const void *) t->f16_to_f32,
    (const void *) t->quantize_f32_s8, (const void *) t->quantize_f32_u8,
    (const void *) t->dequantize_s8_f32, (const void *) t->dequantize_u8_f32,
    (const void *) t->gemm_f32_packed_size, (const void *) t->gemm_f32_pack_b,
    (const void *) t->gemm_f32, (const void *) t->gemm_f32_exact, (const void *) t->gemm_f16_packed_size,
    (const void *) t->gemm_f16_pack_b, (const void *) t->gemm_f16, (const void *) t->dwconv_f32_nhwc,
    (const void *) t->dwconv_f32_nhwc_exact,
    (const void *) t->maxpool_f32_nhwc, (const void *) t->avgpool_global_f32_nhwc,
    (const void *) t->binary_f32, (const void *) t->add_clamp_f32,
    (const void *) t->clamp_f32, (const void *) t->sigmoid_f32, (const void *) t->silu_f32,
    (const void *) t->hard_gate_f32,
    (const void *) t->softmax_f32,
    (const void *) t->qgemm_u8s8_packed_size,
    (const void *) t->qgemm_u8s8_pack, (const void *) t->qgemm_u8s8_requant,
    (const void *) t->qgemm_u8s8_s32, (const void *) t->qgemm_u8s4_packed_size,
    (const void *) t->qgemm_u8s4_pack, (const void *) t->qgemm_u8s4_requant,
    (const void *) t->qgemm_u8s4_s32, (const void *) t->qgemm_version,
    (const void *) t->qdwconv_u8_nhwc,
    (const void *) t->maxpool_u8_nhwc, (const void *) t->qadd_u8, (const void *) t->qrescale_u8,
  };

  for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++)
    if (entries[i] == NULL)
      return false;
  return true;
}

static void
build_tables (void)
{
  for (int i = 0; i < KK_ISA_COUNT; i++)
    {
      kk_isa isa = (kk_isa) i;
      kk_kernels *t = &tables[i];

      if (!kk_isa_hw_supported (isa))
        continue;
      memset (t, 0, sizeof *t);
      t->isa = isa;
      kk_colour_fill (t, isa);
      kk_threshold_fill (t, isa);
      kk_normalize_fill (t, isa);
      kk_resize_fill (t, isa);
      kk_model_input_fill (t, isa);
      kk_convert_fill (t, isa);
      kk_gemm_fill (t, isa);
      kk_dwconv_fill (t, isa);
      kk_dwconv_f16_fill (t, isa);
      kk_pool_fill (t, isa);
      kk_eltwise_fill (t, isa);
      kk_qgemm_fill (t, isa);
      kk_qdwconv_fill (t, isa);
      kk_qpool_fill (t, isa);
      kk_qeltwise_fill (t, isa);
      table_hw[i] = true;
    }
  for (int i = 0; i < KK_ISA_COUNT; i++)
    if (table_hw[i])
      {
        exact_tables[i] = tables[KK_ISA_SCALAR];
        exact_tables[i].gemm_f32 = tables[i].gemm_f32_exact;
        exact_tables[i].dwconv_f32_nhwc = tables[i].dwconv_f32_nhwc_exact;
      }
}

const kk_kernels *
kk_kernels_get (kk_isa isa)
{
  if ((unsigned) isa >= KK_ISA_COUNT)
    return NULL;
  pthread_once (&tables_once, build_tables);
  return table_hw[isa] ? &tables[isa] : NULL;
}

const kk_kernels *
kk_kernels_get_exact (kk_isa isa)
{
  if ((unsigned) isa >= KK_ISA_COUNT)
    return NULL;
  pthread_once (&tables_once, build_tables);
  return table_hw[isa] ? &exact_tables[isa] : NULL;
}

static const char *const level_names[KK_LEVEL_COUNT] = {
  [KK_LEVEL_SCALAR] = "scalar",
  [KK_LEVEL_SIMD] = "simd",
  [KK_LEVEL_PARALLEL] = "parallel",
  [KK_LEVEL_FULL] = "full",
};

const char *
kk_level_name (kk_level level)
{
  return (unsigned) level < KK_LEVEL_COUNT ? level_names[level] : "unknown";
}

bool
kk_level_from_name (const char *name, kk_level *out)
{
  if (name == NULL)
    return false;
  for (int i = 0; i < KK_LEVEL_COUNT; i++)
    if (strcmp (name, level_names[i]) == 0)
      {
        *out = (kk_level) i;
        return true;
      }
  return false;
}

kk_isa
kk_level_isa (kk_level level)
{
  return (level == KK_LEVEL_SIMD || level == KK_LEVEL_FULL) ? kk_isa_best () : KK_ISA_SCALAR;
}

bool
kk_level_is_parallel (kk_level level)
{
  return level == KK_LEVEL_PARALLEL || level == KK_LEVEL_FULL;
}

const kk_kernels *
kk_kernels_for_level (kk_level level)
{
  return kk_kernels_get (kk_level_isa (level));
}

size_t
kk_pixel_format_channels (kk_pixel_format format)
{
  switch (format)
    {
    case KK_PIXEL_GRAY8:
      return 1;
    case KK_PIXEL_RGB8:
      return 3;
    case KK_PIXEL_RGBA8:
    case KK_PIXEL_BGRA8:
    case KK_PIXEL_BGRX8:
      return 4;
    case KK_PIXEL_COUNT:
    default:
      return 0;
    }
}

bool
kk_gray_rows (const kk_kernels *k, const kk_image_view *src,
              uint8_t *dst, size_t dst_stride, size_t row_begin, size_t row_end)
{
  void (*row_fn) (const uint8_t *, uint8_t *, size_t);

  switch (src->format)
    {
    case KK_PIXEL_RGB8:
      row_fn = k->gray_from_rgb8;
      break;
    case KK_PIXEL_RGBA8:
      row_fn = k->gray_from_rgba8;
      break;
    case KK_PIXEL_BGRA8:
    case KK_PIXEL_BGRX8:
      row_fn = k->gray_from_bgra8;
      break;
    case KK_PIXEL_GRAY8:
    case KK_PIXEL_COUNT:
    default:
      return false;
    }
  for (size_t y = row_begin; y < row_end && y < src->height; y++)
    row_fn (src->data + y * src->stride, dst + y * dst_stride, src->width);
  return true;
}
