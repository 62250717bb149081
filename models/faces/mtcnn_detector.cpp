// The seed's detect_faces, step by step (SEED_SPEC §3.3-3.4). Every number that decides a box is
// computed the way NumPy computes it there: boxes in float64, network outputs in float32,
// comparisons of float32 probabilities with float32 thresholds, np.round (half to even).
#include "models/faces/mtcnn_detector.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <mutex>

#include "core/autograd.h"
#include "core/error.h"
#include "models/faces/numpy_argsort.h"
#include "models/mtcnn_nets.h"

namespace gler::models::faces {
namespace {

// Runs body(i) for i in [0, n) across the CPU threads (OpenMP: nested inside another parallel
// region it runs serially). Exceptions must not leave a parallel region: the first is kept and
// rethrown after the loop.
template <class F>
void parallel_for(std::size_t n, bool parallel, F&& body) {
  std::exception_ptr error;
  std::mutex error_mutex;
#pragma omp parallel for schedule(dynamic, 1) if (parallel && n > 1)
  for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(n); ++i) {
    try {
      body(static_cast<std::size_t>(i));
    } catch (...) {
      const std::lock_guard lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

struct Box {
  double x1, y1, x2, y2, score;
  double width() const { return x2 - x1 + 1.0; }
  double height() const { return y2 - y1 + 1.0; }
};
using Offsets = std::array<float, 4>;

enum class NmsMode { union_area, min_area };

// Greedy NMS as the seed's box_utils.nms: sort by score ascending (np.argsort, whose order of
// equal scores decides which of two tied boxes is kept), take the last, drop the picked box and
// every box overlapping it by more than `threshold`. Returns indices in pick order.
std::vector<std::size_t> nms(const std::vector<Box>& boxes, double threshold, NmsMode mode) {
  std::vector<double> scores(boxes.size());
  for (std::size_t i = 0; i < boxes.size(); ++i) scores[i] = boxes[i].score;
  std::vector<std::size_t> ids = numpy_argsort(scores);
  std::vector<double> area(boxes.size());
  for (std::size_t i = 0; i < boxes.size(); ++i) area[i] = boxes[i].width() * boxes[i].height();
  std::vector<std::size_t> pick;
  while (!ids.empty()) {
    const std::size_t i = ids.back();
    ids.pop_back();
    pick.push_back(i);
    const Box& a = boxes[i];
    std::erase_if(ids, [&](std::size_t j) {
      const Box& b = boxes[j];
      const double w = std::max(0.0, std::min(a.x2, b.x2) - std::max(a.x1, b.x1) + 1.0);
      const double h = std::max(0.0, std::min(a.y2, b.y2) - std::max(a.y1, b.y1) + 1.0);
      const double inter = w * h;
      const double overlap = mode == NmsMode::min_area ? inter / std::min(area[i], area[j])
                                                       : inter / (area[i] + area[j] - inter);
      return overlap > threshold;
    });
  }
  return pick;
}

template <class T>
std::vector<T> select(const std::vector<T>& v, const std::vector<std::size_t>& indices) {
  std::vector<T> out;
  out.reserve(indices.size());
  for (std::size_t i : indices) out.push_back(v[i]);
  return out;
}

// x1 += tx1·w, y1 += ty1·h, x2 += tx2·w, y2 += ty2·h (float64 products of float32 offsets).
void calibrate(Box& b, const Offsets& t) {
  const double w = b.width(), h = b.height();
  b.x1 += w * t[0];
  b.y1 += h * t[1];
  b.x2 += w * t[2];
  b.y2 += h * t[3];
}

// convert_to_square followed by np.round of the four coordinates. convert_to_square starts from
// np.zeros_like, so the score becomes 0 (the next stage replaces it before anything reads it).
void square_and_round(Box& b) {
  const double w = b.width(), h = b.height(), side = std::max(h, w);
  const double x1 = b.x1 + w * 0.5 - side * 0.5, y1 = b.y1 + h * 0.5 - side * 0.5;
  b.x1 = std::nearbyint(x1);
  b.y1 = std::nearbyint(y1);
  b.x2 = std::nearbyint(x1 + side - 1.0);
  b.y2 = std::nearbyint(y1 + side - 1.0);
  b.score = 0;
}

// The nets' input: (u8 − 127.5) · 0.0078125 (exact in float32, as mtcnn_normalize computes it),
// written straight into the planes of one NCHW image, saving the separate u8 tensor, the
// arithmetic passes and the layout permutation.
void write_normalized_planes(const io::Image& rgb, float* dst) {
  const std::size_t plane = static_cast<std::size_t>(rgb.width) * rgb.height;
  const std::uint8_t* src = rgb.pixels.data();
  for (std::size_t i = 0; i < plane; ++i)
    for (int c = 0; c < 3; ++c) dst[c * plane + i] = (static_cast<float>(src[3 * i + c]) - 127.5f) * 0.0078125f;
}

// get_image_boxes: cut each box out of the image (zero outside), Pillow-resize it to size x size,
// normalise into a [N, 3, size, size] batch.
// As in the seed (correct_bboxes writes through NumPy views), the boxes are clipped to the image
// in place, and later steps calibrate and place landmarks relative to the clipped boxes.
Tensor crop_batch(const io::Image& rgb, std::vector<Box>& boxes, int size) {
  const std::size_t patch_values = static_cast<std::size_t>(size) * size * 3;
  Tensor batch = Tensor::empty({static_cast<std::int64_t>(boxes.size()), 3, size, size});
  float* out = batch.host_data<float>();
  const double W = rgb.width, H = rgb.height;
  parallel_for(boxes.size(), true, [&](std::size_t n) {
    Box& b = boxes[n];
    const double w = b.width(), h = b.height();
    double dx = 0, dy = 0, edx = w - 1.0, edy = h - 1.0;
    if (b.x2 > W - 1.0) {
      edx = w + W - 2.0 - b.x2;
      b.x2 = W - 1.0;
    }
    if (b.y2 > H - 1.0) {
      edy = h + H - 2.0 - b.y2;
      b.y2 = H - 1.0;
    }
    if (b.x1 < 0.0) {
      dx = -b.x1;
      b.x1 = 0.0;
    }
    if (b.y1 < 0.0) {
      dy = -b.y1;
      b.y1 = 0.0;
    }
    // astype('int32') truncates; the patch keeps the unclipped box size.
    const int pw = static_cast<std::int32_t>(w), ph = static_cast<std::int32_t>(h);
    GLER_CHECK(pw > 0 && ph > 0, "MTCNN: degenerate box " << b.x1 << "," << b.y1 << "," << b.x2 << "," << b.y2);
    io::Image patch(pw, ph, 3);
    const int x0 = static_cast<std::int32_t>(b.x1), y0 = static_cast<std::int32_t>(b.y1);
    const int cx0 = static_cast<std::int32_t>(dx), cy0 = static_cast<std::int32_t>(dy);
    const int cols = std::min(static_cast<std::int32_t>(edx) - cx0, static_cast<std::int32_t>(b.x2) - x0) + 1;
    const int rows = std::min(static_cast<std::int32_t>(edy) - cy0, static_cast<std::int32_t>(b.y2) - y0) + 1;
    if (cols > 0 && rows > 0 && cx0 + cols <= pw && cy0 + rows <= ph)
      for (int r = 0; r < rows; ++r)
        std::memcpy(patch.row(cy0 + r) + cx0 * 3, rgb.row(y0 + r) + x0 * 3, static_cast<std::size_t>(cols) * 3);
    write_normalized_planes(io::resize_pillow(patch, size, size), out + n * patch_values);
  });
  return batch;
}

// The pyramid: scale_k = m·factor^k while the shorter side, scaled, stays above 12 (Python
// floats, i.e. double, as the seed: float32 would change some level sizes).
std::vector<double> pyramid_scales(int width, int height, const MtcnnOptions& o) {
  const double m = 12.0 / o.min_face_size;
  double min_length = std::min(width, height) * m;
  std::vector<double> scales;
  for (int k = 0; min_length > 12.0; ++k) {
    scales.push_back(m * std::pow(o.scale_factor, k));
    min_length *= o.scale_factor;
  }
  return scales;
}

struct StageOneLevel {
  PyramidLevel level;
  std::vector<Box> boxes;
  std::vector<Offsets> offsets;
};

// P-Net on one level; candidates where the face probability > threshold, mapped back to the
// image as round((2x+1)/s) .. round((2x+13)/s), then NMS within the level.
StageOneLevel run_pnet(const PNet& pnet, const io::Image& rgb, double scale, const MtcnnOptions& o, Device device) {
  NoGradGuard no_grad;  // per thread: levels may run on worker threads
  StageOneLevel out;
  out.level.scale = scale;
  out.level.width = static_cast<int>(std::ceil(rgb.width * scale));
  out.level.height = static_cast<int>(std::ceil(rgb.height * scale));
  const io::Image resized = io::resize_pillow(rgb, out.level.width, out.level.height);
  const Tensor input = Tensor::empty({1, 3, resized.height, resized.width});
  write_normalized_planes(resized, input.host_data<float>());
  const PNetOutput result = pnet.forward(input.to(device));
  const int mh = static_cast<int>(result.probs.size(2)), mw = static_cast<int>(result.probs.size(3));
  out.level.map_height = mh;
  out.level.map_width = mw;
  const std::vector<float> probs = result.probs.to_vector<float>(), offsets = result.offsets.to_vector<float>();
  const std::size_t plane = static_cast<std::size_t>(mh) * mw;
  for (int y = 0; y < mh; ++y)
    for (int x = 0; x < mw; ++x) {
      const std::size_t at = static_cast<std::size_t>(y) * mw + x;
      const float p = probs[plane + at];
      if (!(p > o.thresholds[0])) continue;
      out.boxes.push_back({std::nearbyint((2.0 * x + 1.0) / scale), std::nearbyint((2.0 * y + 1.0) / scale),
                           std::nearbyint((2.0 * x + 1.0 + 12.0) / scale),
                           std::nearbyint((2.0 * y + 1.0 + 12.0) / scale), static_cast<double>(p)});
      out.offsets.push_back({offsets[at], offsets[plane + at], offsets[2 * plane + at], offsets[3 * plane + at]});
    }
  out.level.above_threshold = static_cast<int>(out.boxes.size());
  const std::vector<std::size_t> keep = nms(out.boxes, o.pnet_scale_nms, NmsMode::union_area);
  out.boxes = select(out.boxes, keep);
  out.offsets = select(out.offsets, keep);
  out.level.after_nms = static_cast<int>(out.boxes.size());
  return out;
}

// Runs a net over a batch of crops and returns each of its outputs as host floats, in batch
// order. On the CPU the batch is cut into slices of kSliceCrops crops, the slices shared out among
// the threads, each run with the ops inside it serial: these nets are small, and a parallel region
// per op costs more in thread wake-ups than its share of the work (on two cores, R-Net was 3x
// slower that way). The slices do not depend on the thread count because a crop's outputs may
// depend, by an ulp, on the batch it runs in (BLAS kernels treat a GEMM's last rows differently):
// gler_faces and gler_infer, on any number of threads, must find the same faces bit for bit.
constexpr std::int64_t kSliceCrops = 32;

template <class Forward>
std::vector<std::vector<float>> run_in_slices(const Tensor& batch, Device device, Forward forward) {
  const std::int64_t n = batch.size(0);
  const std::int64_t slices = device.is_cpu() ? std::max<std::int64_t>((n + kSliceCrops - 1) / kSliceCrops, 1) : 1;
  std::vector<std::vector<std::vector<float>>> parts(static_cast<std::size_t>(slices));
  parallel_for(parts.size(), true, [&](std::size_t i) {
    NoGradGuard no_grad;
    const std::int64_t begin = n * static_cast<std::int64_t>(i) / slices, end = n * static_cast<std::int64_t>(i + 1) / slices;
    for (const Tensor& t : forward(batch.slice(begin, end).to(device))) parts[i].push_back(t.to_vector<float>());
  });
  std::vector<std::vector<float>> out = std::move(parts[0]);
  for (std::size_t i = 1; i < parts.size(); ++i)
    for (std::size_t k = 0; k < out.size(); ++k) out[k].insert(out[k].end(), parts[i][k].begin(), parts[i][k].end());
  return out;
}

Candidate candidate(const Box& b) { return {b.x1, b.y1, b.x2, b.y2, b.score}; }

// The end of stages 1 and 2: union NMS, then every survivor calibrated by its offsets, squared
// and rounded. `after_nms` receives the survivor count.
std::vector<Box> suppress_and_refine(const std::vector<Box>& boxes, const std::vector<Offsets>& offsets,
                                     double threshold, int& after_nms) {
  std::vector<Box> kept;
  for (std::size_t i : nms(boxes, threshold, NmsMode::union_area)) {
    kept.push_back(boxes[i]);
    calibrate(kept.back(), offsets[i]);
    square_and_round(kept.back());
  }
  after_nms = static_cast<int>(kept.size());
  return kept;
}

std::vector<std::size_t> above(const std::vector<float>& probs2, float threshold) {
  std::vector<std::size_t> keep;
  for (std::size_t i = 0; i < probs2.size() / 2; ++i)
    if (probs2[2 * i + 1] > threshold) keep.push_back(i);
  return keep;
}

Offsets offsets_row(const std::vector<float>& offsets4, std::size_t i) {
  return {offsets4[4 * i], offsets4[4 * i + 1], offsets4[4 * i + 2], offsets4[4 * i + 3]};
}

}  // namespace

MtcnnDetector::MtcnnDetector(const std::string& weights, Device device, MtcnnOptions options)
    : nets_(std::make_unique<MtcnnNets>(weights)), device_(device), options_(options) {
  GLER_CHECK(options_.min_face_size >= 12, "MTCNN: min face size must be at least 12 px, got " << options_.min_face_size);
  GLER_CHECK(options_.scale_factor > 0 && options_.scale_factor < 1,
             "MTCNN: the pyramid factor must lie in (0, 1), got " << options_.scale_factor);
  nets_->pnet.to(device);
  nets_->rnet.to(device);
  nets_->onet.to(device);
}

MtcnnDetector::~MtcnnDetector() = default;
MtcnnDetector::MtcnnDetector(MtcnnDetector&&) noexcept = default;

MtcnnResult MtcnnDetector::detect(const io::Image& rgb) const {
  GLER_CHECK(rgb.channels == 3, "MTCNN needs an RGB image, got " << rgb.channels << " channels");
  const MtcnnOptions& o = options_;
  NoGradGuard no_grad;
  MtcnnResult result;

  // Stage 1: P-Net over the pyramid, then NMS across the levels.
  std::vector<Box> boxes;
  std::vector<Offsets> offsets;
  // On the CPU the levels run concurrently, each on one thread (the largest first, as listed);
  // a GPU gets them one after another.
  const std::vector<double> scales = pyramid_scales(rgb.width, rgb.height, o);
  std::vector<StageOneLevel> levels(scales.size());
  parallel_for(scales.size(), device_.is_cpu(),
               [&](std::size_t k) { levels[k] = run_pnet(nets_->pnet, rgb, scales[k], o, device_); });
  for (const StageOneLevel& level : levels) {
    result.levels.push_back(level.level);
    boxes.insert(boxes.end(), level.boxes.begin(), level.boxes.end());
    offsets.insert(offsets.end(), level.offsets.begin(), level.offsets.end());
  }
  result.stage1_candidates = static_cast<int>(boxes.size());
  if (boxes.empty()) return result;
  boxes = suppress_and_refine(boxes, offsets, o.nms_thresholds[0], result.stage1_after_nms);
  for (const Box& b : boxes) result.stage1_boxes.push_back(candidate(b));

  // Stage 2: R-Net on 24x24 crops of every candidate, in one batch.
  {
    const Tensor crops = crop_batch(rgb, boxes, 24);
    const auto r = run_in_slices(crops, device_, [&](const Tensor& x) {
      const RNetOutput o = nets_->rnet.forward(x);
      return std::vector<Tensor>{o.probs, o.offsets};
    });
    const std::vector<float>&probs = r[0], &offs = r[1];
    std::vector<Box> kept;
    offsets.clear();
    for (std::size_t i : above(probs, o.thresholds[1])) {
      kept.push_back(boxes[i]);
      kept.back().score = probs[2 * i + 1];
      offsets.push_back(offsets_row(offs, i));
    }
    boxes = std::move(kept);
  }
  result.stage2_after_threshold = static_cast<int>(boxes.size());
  boxes = suppress_and_refine(boxes, offsets, o.nms_thresholds[1], result.stage2_after_nms);
  for (const Box& b : boxes) result.stage2_boxes.push_back(candidate(b));
  if (boxes.empty()) return result;

  // Stage 3: O-Net on 48x48 crops; landmarks from the (clipped) input boxes, then calibration and
  // NMS in `min` mode. Final boxes are neither squared nor rounded.
  const Tensor crops = crop_batch(rgb, boxes, 48);
  const auto out = run_in_slices(crops, device_, [&](const Tensor& x) {
    const ONetOutput o = nets_->onet.forward(x);
    return std::vector<Tensor>{o.probs, o.offsets, o.landmarks, o.features};
  });
  const std::vector<float>&probs = out[0], &offs = out[1], &marks = out[2], &features = out[3];
  const std::size_t feature_dim = features.size() / crops.size(0);
  const std::vector<std::size_t> passed = above(probs, o.thresholds[2]);
  result.stage3_after_threshold = static_cast<int>(passed.size());
  std::vector<Box> finals;
  std::vector<DetectedFace> faces;
  for (std::size_t i : passed) {
    Box b = boxes[i];
    b.score = probs[2 * i + 1];
    DetectedFace face;
    const double w = b.width(), h = b.height();
    for (int k = 0; k < 5; ++k) {
      face.landmarks[k].x = static_cast<float>(b.x1 + w * marks[10 * i + k]);
      face.landmarks[k].y = static_cast<float>(b.y1 + h * marks[10 * i + 5 + k]);
    }
    calibrate(b, offsets_row(offs, i));
    face.box = {b.x1, b.y1, b.x2, b.y2};
    face.score = b.score;
    finals.push_back(b);
    faces.push_back(std::move(face));
  }
  const std::vector<std::size_t> picks = nms(finals, o.nms_thresholds[2], NmsMode::min_area);
  for (std::size_t p : picks) {
    // The seed indexes the unfiltered features with picks relative to the filtered list.
    const std::size_t row = o.seed_feature_indexing ? p : passed[p];
    const float* f = features.data() + row * feature_dim;
    faces[p].feature.assign(f, f + feature_dim);
    result.faces.push_back(std::move(faces[p]));
  }
  return result;
}

std::vector<std::vector<float>> MtcnnDetector::onet_features(const io::Image& rgb,
                                                             const std::vector<std::array<double, 4>>& input_boxes) const {
  GLER_CHECK(rgb.channels == 3, "MTCNN needs an RGB image, got " << rgb.channels << " channels");
  std::vector<std::vector<float>> features;
  if (input_boxes.empty()) return features;
  NoGradGuard no_grad;
  std::vector<Box> boxes;
  for (const std::array<double, 4>& b : input_boxes) boxes.push_back({b[0], b[1], b[2], b[3], 0.0});
  const Tensor crops = crop_batch(rgb, boxes, 48);
  const auto out = run_in_slices(crops, device_, [&](const Tensor& x) { return std::vector<Tensor>{nets_->onet.forward(x).features}; });
  const std::size_t feature_dim = out[0].size() / boxes.size();
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    const float* f = out[0].data() + i * feature_dim;
    features.emplace_back(f, f + feature_dim);
  }
  return features;
}

std::array<double, 4> onet_input_box(const std::array<double, 4>& box) {
  Box b{box[0], box[1], box[2], box[3], 0.0};
  square_and_round(b);
  return {b.x1, b.y1, b.x2, b.y2};
}

std::string bundled_mtcnn_weights() { return std::string(GLER_DATA_DIR) + "/mtcnn/mtcnn.safetensors"; }

}  // namespace gler::models::faces
