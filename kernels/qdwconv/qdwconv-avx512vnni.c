/* qdwconv-avx512vnni.c — int8 depthwise convolution with VNNI's vpdpbusd,
 * four taps of 64 channels per instruction; scheme in qdwconv.h.
 *
 * vpdpbusd adds to each s32 lane the four products of its four u8 input
 * bytes and four s8 weight bytes, exactly (no 16-bit intermediate). In NHWC
 * the bytes next to each other are channels, so the four taps of a group
 * are interleaved first: two rounds of byte and word unpacks turn four tap
 * vectors (64 channels each) into four vectors whose lanes hold (tap a,
 * b, c, d) of one channel. The unpacks work inside 128-bit lanes, so
 * accumulator j, 128-bit lane k, element e is channel 16k + 4j + e; the
 * weights, bias and multipliers are put in that order once per block of
 * 64 channels, and the output bytes are put back in channel order at the
 * store.
 *
 * The input zero point comes off the starting sum (bias - zero_point * sum
 * of the weights) instead of off every input, so a tap in the padding reads
 * a vector of zero points (it then adds zero_point * w, which cancels its
 * share of the start), and every output pixel, border or not, takes the
 * same path. Every sum is exact modulo 2^32 and the true result fits s32,
 * so the bits are the reference's.
 */
#include "qdwconv.h"

#include <immintrin.h>
#include <string.h>

/* Kernels up to 8x8 (16 groups of four taps); larger ones take the
 * AVX-512BW version, as do 32 channels or fewer (see below). */
#define MAX_GROUPS 16
#define MAX_TAPS (4 * MAX_GROUPS)

/* One block of up to 64 channels, everything in the accumulators' order. */
typedef struct {
  __m512i w[MAX_GROUPS][4];   /* the group's four taps interleaved per channel */
  __m512i start[4];           /* bias - input zero point * sum of the weights */
  __m512i mult[4];            /* requantisation multipliers */
  __mmask64 mask;             /* the block's channels */
} Block;

/* Four tap vectors (64 channels each) -> four vectors of (a, b, c, d)
 * per channel, in the accumulators' order. */
static inline void
interleave4 (__m512i a, __m512i b, __m512i c, __m512i d, __m512i q[4])
{
  const __m512i ab_lo = _mm512_unpacklo_epi8 (a, b), ab_hi = _mm512_unpackhi_epi8 (a, b);
  const __m512i cd_lo = _mm512_unpacklo_epi8 (c, d), cd_hi = _mm512_unpackhi_epi8 (c, d);
  q[0] = _mm512_unpacklo_epi16 (ab_lo, cd_lo);
  q[1] = _mm512_unpackhi_epi16 (ab_lo, cd_lo);
  q[2] = _mm512_unpacklo_epi16 (ab_hi, cd_hi);
  q[3] = _mm512_unpackhi_epi16 (ab_hi, cd_hi);
}

/* 4 x 4 transpose of 128-bit lanes: channel order (vector m = channels
 * 16m .. 16m + 15) <-> the accumulators' order. Its own inverse. */
static inline void
transpose_lanes (const __m512i in[4], __m512i out[4])
{
  const __m512i t0 = _mm512_shuffle_i32x4 (in[0], in[1], 0x44);
  const __m512i t1 = _mm512_shuffle_i32x4 (in[0], in[1], 0xEE);
  const __m512i t2 = _mm512_shuffle_i32x4 (in[2], in[3], 0x44);
  const __m512i t3 = _mm512_shuffle_i32x4 (in[2], in[3], 0xEE);
  out[0] = _mm512_shuffle_i32x4 (t0, t2, 0x88);
  out[1] = _mm512_shuffle_i32x4 (t0, t2, 0xDD);
  out[2] = _mm512_shuffle_i32x4 (t1, t3, 0x88);
  out[3] = _mm512_shuffle_i32x4 (t1, t3, 0xDD);
}

/* s32 per channel [c, c + n) in the accumulators' order (0 past n). */
static inline void
load_permuted_s32 (const int32_t *v, size_t n, __m512i out[4])
{
  __m512i natural[4];
  for (size_t m = 0; m < 4; m++)
    {
      const size_t first = 16 * m, count = n > first ? (n - first < 16 ? n - first : 16) : 0;
      natural[m] = v != NULL ? _mm512_maskz_loadu_epi32 ((__mmask16) ((1u << count) - 1), v + first)
                             : _mm512_setzero_si512 ();
    }
  transpose_lanes (natural, out);
}

static void
block_init (const kk_qdwconv_params *p, size_t c, size_t n, size_t groups, Block *b)
{
  const size_t C = p->channels, taps = p->kernel_h * p->kernel_w;
  __m512i sum[4] = { _mm512_setzero_si512 (), _mm512_setzero_si512 (), _mm512_setzero_si512 (),
                     _mm512_setzero_si512 () };
  __m512i bias[4];

  b->mask = n == 64 ? ~(__mmask64) 0 : (((__mmask64) 1 << n) - 1);
  for (size_t g = 0; g < groups; g++)
    {
      __m512i w[4];
      for (size_t i = 0; i < 4; i++)
        {
          const size_t tap = 4 * g + i;
          w[i] = tap < taps ? _mm512_maskz_loadu_epi8 (b->mask, p->weights + tap * C + c)
                            : _mm512_setzero_si512 ();
        }
      interleave4 (w[0], w[1], w[2], w[3], b->w[g]);
      for (size_t j = 0; j < 4; j++)
        sum[j] = _mm512_dpbusd_epi32 (sum[j], _mm512_set1_epi8 (1), b->w[g][j]);
    }
  load_permuted_s32 (p->bias != NULL ? p->bias + c : NULL, n, bias);
  load_permuted_s32 (p->requant.multiplier + c, n, b->mult);
  const __m512i zp = _mm512_set1_epi32 (p->input_zero_point);
  for (size_t j = 0; j < 4; j++)
    b->start[j] = _mm512_sub_epi32 (bias[j], _mm512_mullo_epi32 (sum[j], zp));
}

/* floor ((acc * m + 2^(shift - 1)) / 2^shift), zero point, clamp: 16 values
 * 0..255 in s32 lanes. */
static inline __m512i
requant16 (__m512i acc, __m512i m, const kk_requant *rq)
{
  const __m512i even = _mm512_mul_epi32 (acc, m);
  const __m512i odd = _mm512_mul_epi32 (_mm512_srli_epi64 (acc, 32), _mm512_srli_epi64 (m, 32));
  __m512i x = _mm512_mask_blend_epi32 (0xAAAA, _mm512_srli_epi64 (even, 32), odd);
  x = _mm512_add_epi32 (x, _mm512_set1_epi32 ((int32_t) (1u << (rq->shift - 33))));
  x = _mm512_sra_epi32 (x, _mm_cvtsi32_si128 ((int) (rq->shift - 32)));
  x = _mm512_add_epi32 (x, _mm512_set1_epi32 (rq->zero_point));
  return _mm512_min_epi32 (_mm512_max_epi32 (x, _mm512_set1_epi32 (rq->lo)), _mm512_set1_epi32 (rq->hi));
}

/* One pixel's block: taps[4 * groups] point at the tap's first channel of
 * the block (or at the zero points). */
static inline void
pixel_block (const kk_qdwconv_params *p, const Block *b, const uint8_t *const *taps,
             size_t groups, uint8_t *o)
{
  __m512i acc[4] = { b->start[0], b->start[1], b->start[2], b->start[3] };

  for (size_t g = 0; g < groups; g++, taps += 4)
    {
      __m512i q[4];
      interleave4 (_mm512_maskz_loadu_epi8 (b->mask, taps[0]), _mm512_maskz_loadu_epi8 (b->mask, taps[1]),
                   _mm512_maskz_loadu_epi8 (b->mask, taps[2]), _mm512_maskz_loadu_epi8 (b->mask, taps[3]), q);
      for (size_t j = 0; j < 4; j++)
        acc[j] = _mm512_dpbusd_epi32 (acc[j], q[j], b->w[g][j]);
    }

  /* requantised, then back to channel order: byte vector j holds, per
   * 32-bit word k, channels 16k + 4j .. + 3; channel order wants word
   * 4k + j, a 4 x 4 transpose of words. */
  __m128i bytes[4];
  for (size_t j = 0; j < 4; j++)
    bytes[j] = _mm512_cvtepi32_epi8 (requant16 (acc[j], b->mult[j], &p->requant));
  const __m128i t01_lo = _mm_unpacklo_epi32 (bytes[0], bytes[1]);
  const __m128i t01_hi = _mm_unpackhi_epi32 (bytes[0], bytes[1]);
  const __m128i t23_lo = _mm_unpacklo_epi32 (bytes[2], bytes[3]);
  const __m128i t23_hi = _mm_unpackhi_epi32 (bytes[2], bytes[3]);
  __m512i out = _mm512_castsi128_si512 (_mm_unpacklo_epi64 (t01_lo, t23_lo));
  out = _mm512_inserti32x4 (out, _mm_unpackhi_epi64 (t01_lo, t23_lo), 1);
  out = _mm512_inserti32x4 (out, _mm_unpacklo_epi64 (t01_hi, t23_hi), 2);
  out = _mm512_inserti32x4 (out, _mm_unpackhi_epi64 (t01_hi, t23_hi), 3);
  _mm512_mask_storeu_epi8 (o, b->mask, out);
}

void
kk_qdwconv_u8_nhwc_avx512vnni (const kk_qdwconv_params *p, const uint8_t *in, uint8_t *out,
                               size_t row_begin, size_t row_end)
{
  const size_t C = p->channels, taps = p->kernel_h * p->kernel_w, groups = (taps + 3) / 4;
  const size_t end = kk_qdwconv_rows_end (p, row_end);
  size_t offsets[MAX_TAPS], x_lo, x_hi;
  uint8_t zero_points[64];

  /* A block is 64 channels wide: with 32 or fewer most of it would be
   * padding, and the AVX-512BW version's 32-wide blocks were faster there
   * (0.63x against 0.73x the float kernel at 64x64x24 5x5 on a Zen 5). */
  if (taps > MAX_TAPS || C <= 32)
    {
      kk_qdwconv_u8_nhwc_avx512 (p, in, out, row_begin, row_end);
      return;
    }
  memset (zero_points, p->input_zero_point, sizeof zero_points);
  for (size_t ky = 0, i = 0; ky < p->kernel_h; ky++)
    for (size_t kx = 0; kx < p->kernel_w; kx++)
      offsets[i++] = (ky * p->in_w + kx) * C;
  kk_window_interior (p->out_w, p->in_w, p->kernel_w, p->stride_w, 1, p->pad_left, &x_lo, &x_hi);

  for (size_t c = 0; c < C; c += 64)
    {
      Block b;
      block_init (p, c, C - c < 64 ? C - c : 64, groups, &b);
      for (size_t r = row_begin; r < end; r++)
        {
          const size_t n = r / p->out_h, oy = r % p->out_h;
          const ptrdiff_t iy0 = (ptrdiff_t) (oy * p->stride_h) - (ptrdiff_t) p->pad_top;
          const bool rows_inside = iy0 >= 0 && (size_t) iy0 + p->kernel_h <= p->in_h;
          const uint8_t *image = in + n * p->in_h * p->in_w * C + c;
          uint8_t *out_row = out + (r - p->out_row0) * p->out_w * C + c;
          const uint8_t *tap[MAX_TAPS];

          for (size_t t = taps; t < 4 * groups; t++)
            tap[t] = zero_points;
          for (size_t ox = 0; ox < p->out_w; ox++)
            {
              const ptrdiff_t ix0 = (ptrdiff_t) (ox * p->stride_w) - (ptrdiff_t) p->pad_left;
              if (rows_inside && ox >= x_lo && ox < x_hi)
                {
                  const uint8_t *x = image + ((size_t) iy0 * p->in_w + (size_t) ix0) * C;
                  for (size_t t = 0; t < taps; t++)
                    tap[t] = x + offsets[t];
                }
              else
                {
                  /* a border pixel: the taps inside the input, the rest
                   * read zero points */
                  size_t ky_lo, ky_hi, kx_lo, kx_hi;
                  kk_window_tap_range (iy0, p->kernel_h, 1, p->in_h, &ky_lo, &ky_hi);
                  kk_window_tap_range (ix0, p->kernel_w, 1, p->in_w, &kx_lo, &kx_hi);
                  for (size_t t = 0; t < taps; t++)
                    tap[t] = zero_points;
                  for (size_t ky = ky_lo; ky < ky_hi; ky++)
                    {
                      const uint8_t *x = image + ((size_t) (iy0 + (ptrdiff_t) ky) * p->in_w
                                                  + (size_t) (ix0 + (ptrdiff_t) kx_lo)) * C;
                      for (size_t kx = kx_lo; kx < kx_hi; kx++, x += C)
                        tap[ky * p->kernel_w + kx] = x;
                    }
                }
              pixel_block (p, &b, tap, groups, out_row + ox * C);
            }
        }
    }
}
