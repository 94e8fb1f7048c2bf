/* opencv-peer.h — the C ABI of the OpenCV peer of `kestrel-cli bench-kernels`.
 *
 * The peer is a module (kestrel-opencv-peer.so) loaded with g_module_open()
 * rather than linked: OpenCV's libraries pull in OpenBLAS, and OpenBLAS picks
 * its kernels when it is loaded, so it must not be loaded before
 * kestrel_blas_init() has set OPENBLAS_CORETYPE (see core/base/kestrel-blas.h).
 *
 * The module exports one function, KESTREL_OPENCV_PEER_ENTRY, returning a
 * table of plain C functions. Each does what a user of OpenCV would write for
 * the same job, single threaded (cv::setNumThreads (1) is called when the
 * table is first fetched), reusing its temporary images between calls as a
 * program processing a stream of frames would. They return 0 on success and
 * -1 on failure (a cv::Exception, a bad argument), with the message in
 * last_error(). Never throws across the ABI.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KESTREL_OPENCV_PEER_ABI_VERSION 1
#define KESTREL_OPENCV_PEER_ENTRY "kestrel_opencv_peer_get"
#define KESTREL_OPENCV_PEER_MODULE "kestrel-opencv-peer"

/* Interleaved 8-bit pixel layouts the peer accepts. */
typedef enum {
  KESTREL_PEER_PIXEL_RGB8 = 0,
  KESTREL_PEER_PIXEL_RGBA8,
  KESTREL_PEER_PIXEL_BGRA8,   /* also BGRx */
} KestrelPeerPixel;

typedef struct {
  int abi_version;            /* KESTREL_OPENCV_PEER_ABI_VERSION */
  const char *name;           /* "opencv" */
  const char *version;        /* cv::getVersionString() */
  int threads;                /* cv::getNumThreads() after setNumThreads (1) */
  int uses_ipp;               /* cv::ipp::useIPP(): Intel IPP behind OpenCV's back */

  /* cv::cvtColor (..., COLOR_{RGB,RGBA,BGRA}2GRAY). */
  int (*gray) (KestrelPeerPixel format, const uint8_t *src, int width, int height,
               size_t src_stride, uint8_t *dst, size_t dst_stride);

  /* cv::threshold (..., THRESH_BINARY): dst = src > thresh ? maxval : 0. */
  int (*threshold_u8) (const uint8_t *src, uint8_t *dst, int width, int height,
                       size_t stride, uint8_t thresh, uint8_t maxval);

  /* cv::resize (..., INTER_LINEAR) of 1, 3 or 4 channel 8-bit images. */
  int (*resize_bilinear_u8) (const uint8_t *src, int src_w, int src_h, size_t src_stride,
                             uint8_t *dst, int dst_w, int dst_h, size_t dst_stride,
                             int channels);

  /* Frame to float tensor in R, G, B order, out = sample * scale + offset:
   * cv::resize (INTER_LINEAR) to out_w x out_h, then
   *  - NHWC: cv::cvtColor to RGB (unless already RGB) and
   *    convertTo (CV_32FC3, scale, offset) straight into dst;
   *  - NCHW: cv::split into planes and convertTo (CV_32F, scale, offset) of
   *    the R, G and B planes straight into dst's three planes. */
  int (*model_input) (KestrelPeerPixel format, const uint8_t *src, int width, int height,
                      size_t src_stride, float *dst, int out_w, int out_h, int nchw,
                      float scale, float offset);

  /* The message of the last failure on this thread, or "". */
  const char *(*last_error) (void);
} KestrelOpencvPeer;

typedef const KestrelOpencvPeer *(*KestrelOpencvPeerGetFunc) (void);

#ifdef __cplusplus
}
#endif
