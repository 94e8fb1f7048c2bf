// opencv-peer.cpp — OpenCV doing the jobs bench-kernels measures; see
// opencv-peer.h. Each function is what a user would write with OpenCV, with
// no tricks either way: the cheapest honest pipeline, temporaries kept
// between calls, one thread.
#include "opencv-peer.h"

#include <exception>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

namespace {

thread_local std::string last_error_message;

// Runs f, turning any exception into -1 and a message.
template <typename F>
int
guarded (const char *what, F &&f)
{
  try
    {
      f ();
      return 0;
    }
  catch (const std::exception &e)
    {
      last_error_message = std::string (what) + ": " + e.what ();
    }
  catch (...)
    {
      last_error_message = std::string (what) + ": unknown exception";
    }
  return -1;
}

int
bad_argument (const char *what)
{
  last_error_message = what;
  return -1;
}

int
pixel_channels (KestrelPeerPixel format)
{
  switch (format)
    {
    case KESTREL_PEER_PIXEL_RGB8:
      return 3;
    case KESTREL_PEER_PIXEL_RGBA8:
    case KESTREL_PEER_PIXEL_BGRA8:
      return 4;
    }
  return 0;
}

// Wraps caller memory without copying; OpenCV writes straight into it as
// long as the size and type already match.
cv::Mat
wrap (const uint8_t *data, int width, int height, int type, size_t stride)
{
  return cv::Mat (height, width, type, const_cast<uint8_t *> (data), stride);
}

int
peer_gray (KestrelPeerPixel format, const uint8_t *src, int width, int height,
           size_t src_stride, uint8_t *dst, size_t dst_stride)
{
  int code;

  switch (format)
    {
    case KESTREL_PEER_PIXEL_RGB8:
      code = cv::COLOR_RGB2GRAY;
      break;
    case KESTREL_PEER_PIXEL_RGBA8:
      code = cv::COLOR_RGBA2GRAY;
      break;
    case KESTREL_PEER_PIXEL_BGRA8:
      code = cv::COLOR_BGRA2GRAY;
      break;
    default:
      return bad_argument ("gray: unknown pixel format");
    }
  return guarded ("cv::cvtColor", [&] {
    cv::Mat in = wrap (src, width, height, CV_8UC (pixel_channels (format)), src_stride);
    cv::Mat out = wrap (dst, width, height, CV_8UC1, dst_stride);
    cv::cvtColor (in, out, code);
  });
}

int
peer_threshold_u8 (const uint8_t *src, uint8_t *dst, int width, int height, size_t stride,
                   uint8_t thresh, uint8_t maxval)
{
  return guarded ("cv::threshold", [&] {
    cv::Mat in = wrap (src, width, height, CV_8UC1, stride);
    cv::Mat out = wrap (dst, width, height, CV_8UC1, stride);
    cv::threshold (in, out, thresh, maxval, cv::THRESH_BINARY);
  });
}

int
peer_resize_bilinear_u8 (const uint8_t *src, int src_w, int src_h, size_t src_stride,
                         uint8_t *dst, int dst_w, int dst_h, size_t dst_stride, int channels)
{
  if (channels < 1 || channels > 4)
    return bad_argument ("resize: channels must be 1 to 4");
  return guarded ("cv::resize", [&] {
    cv::Mat in = wrap (src, src_w, src_h, CV_8UC (channels), src_stride);
    cv::Mat out = wrap (dst, dst_w, dst_h, CV_8UC (channels), dst_stride);
    cv::resize (in, out, out.size (), 0, 0, cv::INTER_LINEAR);
  });
}

int
peer_model_input (KestrelPeerPixel format, const uint8_t *src, int width, int height,
                  size_t src_stride, float *dst, int out_w, int out_h, int nchw,
                  float scale, float offset)
{
  int channels = pixel_channels (format);

  if (channels == 0)
    return bad_argument ("model input: unknown pixel format");
  return guarded ("model input", [&] {
    // Kept between calls, as a program handling a stream of frames would.
    thread_local cv::Mat small, rgb;
    thread_local std::vector<cv::Mat> planes;
    cv::Mat in = wrap (src, width, height, CV_8UC (channels), src_stride);

    cv::resize (in, small, cv::Size (out_w, out_h), 0, 0, cv::INTER_LINEAR);
    if (!nchw)
      {
        cv::Mat out (out_h, out_w, CV_32FC3, dst);
        const cv::Mat *packed = &small;

        if (format == KESTREL_PEER_PIXEL_RGBA8)
          cv::cvtColor (small, rgb, cv::COLOR_RGBA2RGB);
        else if (format == KESTREL_PEER_PIXEL_BGRA8)
          cv::cvtColor (small, rgb, cv::COLOR_BGRA2RGB);
        if (format != KESTREL_PEER_PIXEL_RGB8)
          packed = &rgb;
        packed->convertTo (out, CV_32FC3, scale, offset);
      }
    else
      {
        const size_t plane = (size_t) out_w * (size_t) out_h;
        const bool bgr = format == KESTREL_PEER_PIXEL_BGRA8;

        cv::split (small, planes);
        for (int c = 0; c < 3; c++)
          {
            cv::Mat out (out_h, out_w, CV_32FC1, dst + (size_t) c * plane);
            planes[bgr ? 2 - c : c].convertTo (out, CV_32F, scale, offset);
          }
      }
  });
}

const char *
peer_last_error (void)
{
  return last_error_message.c_str ();
}

} // namespace

extern "C" __attribute__ ((visibility ("default"))) const KestrelOpencvPeer *
kestrel_opencv_peer_get (void)
{
  static std::string version;
  static KestrelOpencvPeer peer;

  if (peer.abi_version == 0)
    {
      // Single thread against single thread: the benchmark is about kernels.
      cv::setNumThreads (1);
      version = cv::getVersionString ();
      peer.name = "opencv";
      peer.version = version.c_str ();
      peer.threads = cv::getNumThreads ();
      peer.uses_ipp = cv::ipp::useIPP () ? 1 : 0;
      peer.gray = peer_gray;
      peer.threshold_u8 = peer_threshold_u8;
      peer.resize_bilinear_u8 = peer_resize_bilinear_u8;
      peer.model_input = peer_model_input;
      peer.last_error = peer_last_error;
      peer.abi_version = KESTREL_OPENCV_PEER_ABI_VERSION;
    }
  return &peer;
}
