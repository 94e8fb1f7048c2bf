/* cli-bench-cases.c — the cases of `kestrel-cli bench-kernels`: shapes,
 * deterministic inputs, and one small run function per kernel. */
#include "config.h"

#include "cli-bench-cases.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#define ALIGNMENT 64

/* Parameters every ISA and the peer get alike. */
#define THRESH 128
#define MAXVAL 255
#define NORM_MEAN 0.1f
#define NORM_INV_STD 0.7f
#define QUANT_RANGE 6.0f                   /* inputs of quantize in [-6, 6] */
#define QUANT_S8_SCALE (QUANT_RANGE / 127.0f)
#define QUANT_S8_ZERO 0
#define QUANT_U8_SCALE (2.0f * QUANT_RANGE / 255.0f)
#define QUANT_U8_ZERO 128
#define MODEL_SCALE (1.0f / 127.5f)        /* 0..255 -> [-1, 1] */
#define MODEL_OFFSET (-1.0f)

/* ---- Deterministic inputs ------------------------------------------------ */

/* splitmix64: tiny, fast and the same on every machine. */
static guint64
next_random (guint64 *state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static void
fill_bytes (guint8 *p, gsize n, guint64 seed)
{
  gsize i = 0;

  for (; i + 8 <= n; i += 8)
    {
      guint64 r = next_random (&seed);
      memcpy (p + i, &r, 8);
    }
  for (; i < n; i++)
    p[i] = (guint8) next_random (&seed);
}

/* Uniform in [lo, hi). */
static void
fill_f32 (float *p, gsize n, float lo, float hi, guint64 seed)
{
  for (gsize i = 0; i < n; i++)
    {
      double u = (double) (next_random (&seed) >> 11) * 0x1.0p-53;
      p[i] = (float) ((double) lo + ((double) hi - (double) lo) * u);
    }
}

/* Normal halves of magnitude 2^-5 .. 2^6, either sign: what f16 weights and
 * activations look like (no NaN, Inf or subnormals to take slow paths). */
static void
fill_f16 (guint16 *p, gsize n, guint64 seed)
{
  for (gsize i = 0; i < n; i++)
    {
      guint64 r = next_random (&seed);
      guint16 sign = (guint16) ((r >> 63) << 15);
      guint16 exponent = (guint16) (10 + (r >> 32) % 11);
      guint16 mantissa = (guint16) (r & 0x3ff);
      p[i] = (guint16) (sign | (exponent << 10) | mantissa);
    }
}

static guint64
case_seed (const BenchCase *c)
{
  return g_str_hash (c->name) ^ G_GUINT64_CONSTANT (0x4b657374726c);
}

/* ---- Setup ---------------------------------------------------------------- */

static size_t
shrink_dim (size_t v, gboolean quick)
{
  return quick ? MAX (v / 4, 8) : v;
}

static size_t
shrink_n (size_t v, gboolean quick)
{
  return quick ? MAX (v / 16, 64) : v;
}

static const char *
pixel_name (kk_pixel_format format)
{
  switch (format)
    {
    case KK_PIXEL_GRAY8: return "GRAY8";
    case KK_PIXEL_RGB8: return "RGB8";
    case KK_PIXEL_RGBA8: return "RGBA8";
    case KK_PIXEL_BGRA8: return "BGRA8";
    case KK_PIXEL_BGRX8: return "BGRX8";
    case KK_PIXEL_COUNT:
    default: return "?";
    }
}

static guint8 *
alloc_buffer (gsize bytes)
{
  /* Touched now so page faults never land in a timed run. */
  guint8 *p = g_aligned_alloc0 (MAX (bytes, 1), 1, ALIGNMENT);
  return p;
}

/* Allocates the buffers once the sizes are known, and fills the input. */
static void
allocate (const BenchCase *c, BenchData *d)
{
  d->in = alloc_buffer (d->input_bytes);
  d->out = alloc_buffer (d->output_bytes);
  if (c->memory_bound)
    d->copy = alloc_buffer (d->input_bytes);

  switch (c->fill)
    {
    case BENCH_FILL_F32:
      fill_f32 ((float *) d->in, d->input_bytes / sizeof (float),
                -QUANT_RANGE, QUANT_RANGE, case_seed (c));
      break;
    case BENCH_FILL_F16:
      fill_f16 ((guint16 *) d->in, d->input_bytes / sizeof (guint16), case_seed (c));
      break;
    case BENCH_FILL_BYTES:
    default:
      fill_bytes (d->in, d->input_bytes, case_seed (c));
      break;
    }
}

/* An interleaved image in, one of the same size (gray) out. */
static void
setup_image_to_gray (const BenchCase *c, BenchData *d, gboolean quick)
{
  d->format = c->format;
  d->channels = kk_pixel_format_channels (c->format);
  d->src_w = d->dst_w = shrink_dim (c->src_w, quick);
  d->src_h = d->dst_h = shrink_dim (c->src_h, quick);
  d->src_stride = d->src_w * d->channels;
  d->dst_stride = d->dst_w;
  d->n = d->src_w * d->src_h;
  d->pixels = d->n;
  d->input_bytes = d->src_stride * d->src_h;
  d->output_bytes = d->dst_stride * d->dst_h;
  d->label = g_strdup_printf ("%zux%zu %s", d->src_w, d->src_h, pixel_name (c->format));
  allocate (c, d);
}

static void
setup_1d (const BenchCase *c, BenchData *d, gboolean quick)
{
  d->n = shrink_n (c->n, quick);
  d->input_bytes = d->n * c->in_elem;
  /* mean_var writes two doubles however long its input. */
  d->output_bytes = c->out_elem > 0 ? d->n * c->out_elem : 2 * sizeof (double);
  d->label = g_strdup_printf ("%zu elements", d->n);
  allocate (c, d);
}

static void
setup_resize (const BenchCase *c, BenchData *d, gboolean quick)
{
  d->channels = c->channels;
  d->src_w = shrink_dim (c->src_w, quick);
  d->src_h = shrink_dim (c->src_h, quick);
  d->dst_w = shrink_dim (c->dst_w, quick);
  d->dst_h = shrink_dim (c->dst_h, quick);
  d->src_stride = d->src_w * d->channels;
  d->dst_stride = d->dst_w * d->channels;
  d->pixels = d->dst_w * d->dst_h;
  d->input_bytes = d->src_stride * d->src_h;
  d->output_bytes = d->dst_stride * d->dst_h;
  d->label = g_strdup_printf ("%zux%zu -> %zux%zu, %zu channel%s", d->src_w, d->src_h,
                              d->dst_w, d->dst_h, d->channels, d->channels == 1 ? "" : "s");
  allocate (c, d);
}

/* The left tap of output index j of n over a source of length len >= 2, by
 * the kernels' rule: half-pixel centres, clamped so both taps exist. */
static size_t
left_tap (size_t j, size_t n, size_t len)
{
  double f = ((double) j + 0.5) * (double) len / (double) n - 0.5;

  if (f <= 0.0)
    return 0;
  if (f >= (double) (len - 2))
    return len - 2;
  return (size_t) f;
}

/* Which rows and lines bilinear sampling reads (the case is a stretch with
 * no letterbox, and frames at least 2x2). */
static void
setup_model_input_floor (BenchData *d)
{
  const size_t bpp = d->channels;
  gsize last = G_MAXSIZE;

  d->floor_rows = g_new (guint32, 2 * d->dst_h);
  for (size_t y = 0; y < d->dst_h; y++)
    {
      size_t y0 = left_tap (y, d->dst_h, d->src_h);
      d->floor_rows[d->n_floor_rows++] = (guint32) y0;
      d->floor_rows[d->n_floor_rows++] = (guint32) y0 + 1;
    }
  /* Columns only move right, so each line is new or the last one seen. */
  d->floor_lines = g_new (guint32, d->src_stride / 64 + 1);
  for (size_t x = 0; x < d->dst_w; x++)
    {
      size_t begin = left_tap (x, d->dst_w, d->src_w) * bpp;
      for (size_t line = begin / 64; line <= (begin + 2 * bpp - 1) / 64; line++)
        if (line != last)
          d->floor_lines[d->n_floor_lines++] = (guint32) (64 * (last = line));
    }
}

static void
setup_model_input (const BenchCase *c, BenchData *d, gboolean quick)
{
  d->format = c->format;
  d->channels = kk_pixel_format_channels (c->format);
  d->src_w = shrink_dim (c->src_w, quick);
  d->src_h = shrink_dim (c->src_h, quick);
  d->src_stride = d->src_w * d->channels;
  /* The tensor keeps the model's size even with --quick. */
  d->dst_w = c->dst_w;
  d->dst_h = c->dst_h;
  d->params = (kk_model_input_params) {
    .width = c->dst_w,
    .height = c->dst_h,
    .layout = c->layout,
    .scale = { MODEL_SCALE, MODEL_SCALE, MODEL_SCALE },
    .offset = { MODEL_OFFSET, MODEL_OFFSET, MODEL_OFFSET },
    .letterbox = false,
  };
  d->pixels = d->dst_w * d->dst_h;
  d->input_bytes = d->src_stride * d->src_h;
  d->output_bytes = 3 * d->pixels * sizeof (float);
  d->label = g_strdup_printf ("%zux%zu %s -> %zux%zu %s float [-1,1]", d->src_w, d->src_h,
                              pixel_name (c->format), d->dst_w, d->dst_h,
                              c->layout == KK_LAYOUT_NCHW ? "NCHW" : "NHWC");
  allocate (c, d);
  setup_model_input_floor (d);
}

/* ---- Kestrel runs ------------------------------------------------------------ */

typedef void (*GrayRowFn) (const uint8_t *src, uint8_t *dst, size_t n);

/* A whole frame, row by row, as kk_gray_rows does. */
static void
gray_frame (GrayRowFn row, BenchData *d)
{
  for (size_t y = 0; y < d->src_h; y++)
    row (d->in + y * d->src_stride, d->out + y * d->dst_stride, d->src_w);
}

static void
run_gray_from_rgba8 (const kk_kernels *k, BenchData *d)
{
  gray_frame (k->gray_from_rgba8, d);
}

static void
run_gray_from_rgb8 (const kk_kernels *k, BenchData *d)
{
  gray_frame (k->gray_from_rgb8, d);
}

static void
run_gray_from_bgra8 (const kk_kernels *k, BenchData *d)
{
  gray_frame (k->gray_from_bgra8, d);
}

static void
run_threshold (const kk_kernels *k, BenchData *d)
{
  /* The frame is contiguous, so one call covers it. */
  k->threshold_u8 (d->in, d->out, d->n, THRESH, MAXVAL);
}

static void
run_mean_var (const kk_kernels *k, BenchData *d)
{
  double *mv = (double *) d->out;
  k->mean_var_f32 ((const float *) d->in, d->n, &mv[0], &mv[1]);
}

static void
run_normalize (const kk_kernels *k, BenchData *d)
{
  k->normalize_f32 ((const float *) d->in, (float *) d->out, d->n, NORM_MEAN, NORM_INV_STD);
}

static void
run_f32_to_f16 (const kk_kernels *k, BenchData *d)
{
  k->f32_to_f16 ((const float *) d->in, (uint16_t *) d->out, d->n);
}

static void
run_f16_to_f32 (const kk_kernels *k, BenchData *d)
{
  k->f16_to_f32 ((const uint16_t *) d->in, (float *) d->out, d->n);
}

static void
run_quantize_s8 (const kk_kernels *k, BenchData *d)
{
  k->quantize_f32_s8 ((const float *) d->in, (int8_t *) d->out, d->n, QUANT_S8_SCALE, QUANT_S8_ZERO);
}

static void
run_quantize_u8 (const kk_kernels *k, BenchData *d)
{
  k->quantize_f32_u8 ((const float *) d->in, d->out, d->n, QUANT_U8_SCALE, QUANT_U8_ZERO);
}

static void
run_dequantize_s8 (const kk_kernels *k, BenchData *d)
{
  k->dequantize_s8_f32 ((const int8_t *) d->in, (float *) d->out, d->n, QUANT_S8_SCALE, QUANT_S8_ZERO);
}

static void
run_dequantize_u8 (const kk_kernels *k, BenchData *d)
{
  k->dequantize_u8_f32 (d->in, (float *) d->out, d->n, QUANT_U8_SCALE, QUANT_U8_ZERO);
}

static void
run_resize (const kk_kernels *k, BenchData *d)
{
  k->resize_bilinear_u8 (d->in, d->src_w, d->src_h, d->src_stride,
                         d->out, d->dst_w, d->dst_h, d->dst_stride,
                         d->channels, 0, d->dst_h);
}

static void
run_model_input (const kk_kernels *k, BenchData *d)
{
  const kk_image_view view = { d->in, d->src_w, d->src_h, d->src_stride, d->format };

  k->model_input (&view, (float *) d->out, &d->params, 0, d->params.height);
}

static volatile guint floor_sink;

/* Reads a byte of each line the sampling needs, two source rows per tensor
 * row (interleaved, as the kernels read them, which also measured faster
 * than one row after the other), and writes that tensor row; nothing else.
 * It prefetches the next tensor row's lines as the SIMD kernels do, so no
 * kernel gets a memory technique the floor lacks. */
static void
run_model_input_floor (BenchData *d)
{
  const size_t W = d->dst_w, H = d->dst_h;
  guint sum = 0;

  for (size_t y = 0; y < H; y++)
    {
      const size_t next = y + 1 < H ? y + 1 : y;
      const guint8 *top = d->in + (size_t) d->floor_rows[2 * y] * d->src_stride;
      const guint8 *bottom = d->in + (size_t) d->floor_rows[2 * y + 1] * d->src_stride;
      const guint8 *next_top = d->in + (size_t) d->floor_rows[2 * next] * d->src_stride;
      const guint8 *next_bottom = d->in + (size_t) d->floor_rows[2 * next + 1] * d->src_stride;
      for (gsize i = 0; i < d->n_floor_lines; i++)
        {
          __builtin_prefetch (next_top + d->floor_lines[i], 0, 3);
          __builtin_prefetch (next_bottom + d->floor_lines[i], 0, 3);
          sum += top[d->floor_lines[i]] + bottom[d->floor_lines[i]];
        }
      if (d->params.layout == KK_LAYOUT_NHWC)
        memset ((float *) d->out + 3 * W * y, 0, 3 * W * sizeof (float));
      else
        for (size_t c = 0; c < 3; c++)
          memset ((float *) d->out + (c * H + y) * W, 0, W * sizeof (float));
    }
  floor_sink += sum;
}

/* ---- OpenCV runs ------------------------------------------------------------- */

static KestrelPeerPixel
peer_pixel (kk_pixel_format format)
{
  switch (format)
    {
    case KK_PIXEL_RGB8:
      return KESTREL_PEER_PIXEL_RGB8;
    case KK_PIXEL_BGRA8:
    case KK_PIXEL_BGRX8:
      return KESTREL_PEER_PIXEL_BGRA8;
    case KK_PIXEL_RGBA8:
    case KK_PIXEL_GRAY8:
    case KK_PIXEL_COUNT:
    default:
      return KESTREL_PEER_PIXEL_RGBA8;
    }
}

static int
peer_gray (const KestrelOpencvPeer *peer, BenchData *d)
{
  return peer->gray (peer_pixel (d->format), d->in, (int) d->src_w, (int) d->src_h,
                     d->src_stride, d->out, d->dst_stride);
}

static int
peer_threshold (const KestrelOpencvPeer *peer, BenchData *d)
{
  return peer->threshold_u8 (d->in, d->out, (int) d->src_w, (int) d->src_h, d->src_stride,
                             THRESH, MAXVAL);
}

static int
peer_resize (const KestrelOpencvPeer *peer, BenchData *d)
{
  return peer->resize_bilinear_u8 (d->in, (int) d->src_w, (int) d->src_h, d->src_stride,
                                   d->out, (int) d->dst_w, (int) d->dst_h, d->dst_stride,
                                   (int) d->channels);
}

static int
peer_model_input (const KestrelOpencvPeer *peer, BenchData *d)
{
  return peer->model_input (peer_pixel (d->format), d->in, (int) d->src_w, (int) d->src_h,
                            d->src_stride, (float *) d->out, (int) d->dst_w, (int) d->dst_h,
                            d->params.layout == KK_LAYOUT_NCHW, MODEL_SCALE, MODEL_OFFSET);
}

/* ---- The table ------------------------------------------------------------------ */

#define ENTRY(field) .name = #field, .entry = offsetof (kk_kernels, field)
#define MEGA (1u << 20)

#define GRAY(field, fmt, cv_code) \
  { ENTRY (field), .memory_bound = TRUE, .setup = setup_image_to_gray, .run = run_##field, \
    .run_peer = peer_gray, .peer_pipeline = "cv::cvtColor (" cv_code ")", \
    .src_w = 1920, .src_h = 1080, .format = fmt }

#define ONE_D(field, runner, in_size, out_size, fill_kind) \
  { ENTRY (field), .memory_bound = TRUE, .setup = setup_1d, .run = runner, \
    .n = MEGA, .in_elem = in_size, .out_elem = out_size, .fill = fill_kind }

#define RESIZE(sw, sh, dw, dh, ch) \
  { ENTRY (resize_bilinear_u8), .setup = setup_resize, .run = run_resize, \
    .run_peer = peer_resize, .peer_pipeline = "cv::resize (INTER_LINEAR)", \
    .src_w = sw, .src_h = sh, .dst_w = dw, .dst_h = dh, .channels = ch }

static const BenchCase cases[] = {
  GRAY (gray_from_rgba8, KK_PIXEL_RGBA8, "COLOR_RGBA2GRAY"),
  GRAY (gray_from_rgb8, KK_PIXEL_RGB8, "COLOR_RGB2GRAY"),
  GRAY (gray_from_bgra8, KK_PIXEL_BGRA8, "COLOR_BGRA2GRAY"),
  { ENTRY (threshold_u8), .memory_bound = TRUE, .setup = setup_image_to_gray, .run = run_threshold,
    .run_peer = peer_threshold, .peer_pipeline = "cv::threshold (THRESH_BINARY)",
    .src_w = 1920, .src_h = 1080, .format = KK_PIXEL_GRAY8 },
  ONE_D (mean_var_f32, run_mean_var, 4, 0, BENCH_FILL_F32),
  ONE_D (normalize_f32, run_normalize, 4, 4, BENCH_FILL_F32),
  ONE_D (f32_to_f16, run_f32_to_f16, 4, 2, BENCH_FILL_F32),
  ONE_D (f16_to_f32, run_f16_to_f32, 2, 4, BENCH_FILL_F16),
  ONE_D (quantize_f32_s8, run_quantize_s8, 4, 1, BENCH_FILL_F32),
  ONE_D (quantize_f32_u8, run_quantize_u8, 4, 1, BENCH_FILL_F32),
  ONE_D (dequantize_s8_f32, run_dequantize_s8, 1, 4, BENCH_FILL_BYTES),
  ONE_D (dequantize_u8_f32, run_dequantize_u8, 1, 4, BENCH_FILL_BYTES),
  RESIZE (1920, 1080, 640, 360, 1),
  RESIZE (1920, 1080, 640, 360, 3),
  RESIZE (1920, 1080, 640, 360, 4),
  RESIZE (640, 360, 1280, 720, 3),
  { ENTRY (model_input), .setup = setup_model_input, .run = run_model_input,
    .run_peer = peer_model_input, .out_type = BENCH_OUT_F32, .run_floor = run_model_input_floor,
    .peer_pipeline = "cv::resize (INTER_LINEAR) + cvtColor (COLOR_RGBA2RGB) + convertTo (CV_32FC3, 1/127.5, -1)",
    .src_w = 1280, .src_h = 720, .dst_w = 128, .dst_h = 128, .format = KK_PIXEL_RGBA8,
    .layout = KK_LAYOUT_NHWC },
  { ENTRY (model_input), .setup = setup_model_input, .run = run_model_input,
    .run_peer = peer_model_input, .out_type = BENCH_OUT_F32, .run_floor = run_model_input_floor,
    .peer_pipeline = "cv::resize (INTER_LINEAR) + split + convertTo (CV_32F, 1/127.5, -1) of R, G, B",
    .src_w = 1920, .src_h = 1080, .dst_w = 256, .dst_h = 256, .format = KK_PIXEL_RGBA8,
    .layout = KK_LAYOUT_NCHW },
};

G_STATIC_ASSERT (sizeof (BenchFn) == sizeof (((kk_kernels *) NULL)->gray_from_rgb8));

const BenchCase *
bench_cases (gsize *n_cases)
{
  *n_cases = G_N_ELEMENTS (cases);
  return cases;
}

BenchFn
bench_case_entry (const BenchCase *c, const kk_kernels *k)
{
  BenchFn fn;

  /* Every entry of kk_kernels is a function pointer of the same size. */
  memcpy (&fn, (const char *) k + c->entry, sizeof fn);
  return fn;
}

void
bench_data_clear (BenchData *d)
{
  g_clear_pointer (&d->label, g_free);
  g_clear_pointer (&d->in, g_aligned_free);
  g_clear_pointer (&d->out, g_aligned_free);
  g_clear_pointer (&d->copy, g_aligned_free);
  g_clear_pointer (&d->floor_rows, g_free);
  g_clear_pointer (&d->floor_lines, g_free);
}

void
bench_run_memcpy (BenchData *d)
{
  memcpy (d->copy, d->in, d->input_bytes);
}

static volatile guint64 sink;

void
bench_sink (const BenchData *d)
{
  sink += d->out[0] + d->out[d->output_bytes / 2] + d->out[d->output_bytes - 1];
  if (d->copy != NULL)
    sink += d->copy[d->input_bytes - 1];
}

double
bench_max_abs_diff (const BenchCase *c, const BenchData *d, const guint8 *a, const guint8 *b)
{
  double worst = 0.0;

  if (c->out_type == BENCH_OUT_F32)
    {
      const float *fa = (const float *) a, *fb = (const float *) b;
      for (gsize i = 0; i < d->output_bytes / sizeof (float); i++)
        worst = MAX (worst, fabs ((double) fa[i] - (double) fb[i]));
    }
  else
    {
      for (gsize i = 0; i < d->output_bytes; i++)
        worst = MAX (worst, (double) ABS ((int) a[i] - (int) b[i]));
    }
  return worst;
}
