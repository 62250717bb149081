#include "train/data/emotic_dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <sstream>
#include <string>

#include "core/error.h"
#include "io/preprocess.h"
#include "models/faces/face_layout.h"
#include "train/data/random_streams.h"
#include "weights_import/npy.h"

namespace fs = std::filesystem;

namespace gler::train {
namespace {

constexpr int kSize = io::kGlobalImageSize;  // 224

// ---------------------------------------------------------------------------------------------
// The annotation lists

const wi::NdArray& npz_array(const std::map<std::string, wi::NdArray>& arrays, const std::string& name, const std::string& file) {
  const auto it = arrays.find(name);
  GLER_CHECK(it != arrays.end(), file << ": no array '" << name << "' (an EmotiC annotation file holds image, folder and valence)");
  const wi::NdArray& a = it->second;
  GLER_CHECK(a.shape.size() == 1, file << ": array '" << name << "' has " << a.shape.size() << " dimensions, expected 1");
  return a;
}

const std::vector<std::string>& string_array(const std::map<std::string, wi::NdArray>& arrays, const std::string& name,
                                             const std::string& file) {
  const wi::NdArray& a = npz_array(arrays, name, file);
  GLER_CHECK(a.descr != "|O", file << ": array '" << name
                                   << "' is an object array, a pickle, which gler does not unpickle: save the names as a "
                                      "unicode array (numpy.array(names, dtype=str))");
  GLER_CHECK(a.descr.size() >= 2 && a.descr[1] == 'U',
             file << ": array '" << name << "' has dtype '" << a.descr << "', expected a unicode string array ('<U…')");
  GLER_CHECK(static_cast<std::int64_t>(a.strings.size()) == a.shape[0], file << ": array '" << name << "' is malformed");
  return a.strings;
}

template <typename T>
T load_le(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // parse_npy stores elements little-endian; so is every host gler builds for
  return v;
}

// The valences as doubles (integers beyond 2^53 lose digits, far past any valence).
std::vector<double> numeric_array(const std::map<std::string, wi::NdArray>& arrays, const std::string& name, const std::string& file) {
  const wi::NdArray& a = npz_array(arrays, name, file);
  GLER_CHECK(a.descr != "|O", file << ": array '" << name << "' is an object array, a pickle, which gler does not unpickle");
  const std::string& d = a.descr;
  const char kind = d.size() >= 2 ? d[1] : '?';
  const std::size_t size = a.itemsize();
  const std::size_t n = static_cast<std::size_t>(a.shape[0]);
  const bool supported = ((kind == 'f') && (size == 4 || size == 8)) || ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8)) ||
                         (kind == 'b' && size == 1);
  GLER_CHECK(supported, file << ": array '" << name << "' has dtype '" << d << "', expected numbers (bool, integers, float32 or float64)");
  GLER_CHECK(a.data.size() == n * size, file << ": array '" << name << "' is malformed");
  std::vector<double> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* p = a.data.data() + i * size;
    double v = 0;
    if (kind == 'f') v = size == 4 ? static_cast<double>(load_le<float>(p)) : load_le<double>(p);
    else if (kind == 'b') v = p[0] != 0 ? 1.0 : 0.0;
    else if (kind == 'i') {
      v = size == 1 ? load_le<std::int8_t>(p) : size == 2 ? load_le<std::int16_t>(p) : size == 4 ? load_le<std::int32_t>(p) : static_cast<double>(load_le<std::int64_t>(p));
    } else {
      v = size == 1 ? p[0] : size == 2 ? load_le<std::uint16_t>(p) : size == 4 ? load_le<std::uint32_t>(p) : static_cast<double>(load_le<std::uint64_t>(p));
    }
    out[i] = v;
  }
  return out;
}

std::string format_value(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

// ---------------------------------------------------------------------------------------------
// skimage.transform.resize

// SciPy's mirror extension (ndimage mode 'mirror', skimage's 'reflect'): period 2n − 2, the edge
// samples not repeated.
inline int mirror_index(long long i, int n) {
  if (n <= 1) return 0;
  const long long period = 2LL * n - 2;
  i %= period;
  if (i < 0) i += period;
  return static_cast<int>(i < n ? i : period - i);
}

// numpy's pairwise summation of a float64 array (what phi_x.sum() does).
double numpy_pairwise_sum(const double* a, std::size_t n) {
  if (n < 8) {
    double res = 0.;
    for (std::size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::size_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_pairwise_sum(a, n2) + numpy_pairwise_sum(a + n2, n - n2);
}

// scipy.ndimage's _gaussian_kernel1d(sigma, 0, radius), radius = int(4·sigma + 0.5): w[j] for
// offsets j = 0 … radius (symmetric).
std::vector<double> gaussian_half_kernel(double sigma) {
  const int radius = static_cast<int>(4.0 * sigma + 0.5);
  const double a = -0.5 / (sigma * sigma);
  std::vector<double> phi(2 * static_cast<std::size_t>(radius) + 1);
  for (int x = -radius; x <= radius; ++x) phi[static_cast<std::size_t>(x + radius)] = std::exp(a * static_cast<double>(x * x));
  const double sum = numpy_pairwise_sum(phi.data(), phi.size());
  std::vector<double> half(static_cast<std::size_t>(radius) + 1);
  for (int j = 0; j <= radius; ++j) half[static_cast<std::size_t>(j)] = phi[static_cast<std::size_t>(radius + j)] / sum;
  return half;
}

// One axis of ndimage.zoom(order=1, mode='mirror', grid_mode=True): for each output index of
// [first, first + count), the two input indices and their weights.
struct AxisSamples {
  std::vector<int> i0, i1;
  std::vector<double> w0, w1;
  int lo = 0, hi = 0;  // the input indices used
};

AxisSamples zoom_axis(int n_in, int n_out, int first, int count) {
  AxisSamples s;
  const double zoom = static_cast<double>(n_in) / static_cast<double>(n_out);
  s.lo = std::numeric_limits<int>::max();
  s.hi = -1;
  for (int k = first; k < first + count; ++k) {
    double cc = (static_cast<double>(k) + 0.5) * zoom - 0.5;
    // map_coordinate (ni_interpolation.c), NI_EXTEND_MIRROR
    if (n_in <= 1) {
      if (cc < 0 || cc > n_in - 1) cc = 0;
    } else if (cc < 0) {
      const long long sz2 = 2LL * n_in - 2;
      cc = static_cast<double>(sz2 * static_cast<long long>(-cc / static_cast<double>(sz2))) + cc;
      cc = cc <= 1 - n_in ? cc + static_cast<double>(sz2) : -cc;
    } else if (cc > n_in - 1) {
      const long long sz2 = 2LL * n_in - 2;
      cc -= static_cast<double>(sz2 * static_cast<long long>(cc / static_cast<double>(sz2)));
      if (cc >= n_in) cc = static_cast<double>(sz2) - cc;
    }
    const double fl = std::floor(cc);
    const double t = cc - fl;
    const double w0 = 1.0 - t;  // get_spline_interpolation_weights: the last weight is 1 − the others
    const double w1 = 1.0 - w0;
    const int a = mirror_index(static_cast<long long>(fl), n_in);
    const int b = mirror_index(static_cast<long long>(fl) + 1, n_in);
    s.i0.push_back(a);
    s.i1.push_back(b);
    s.w0.push_back(w0);
    s.w1.push_back(w1);
    s.lo = std::min({s.lo, a, b});
    s.hi = std::max({s.hi, a, b});
  }
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

int emotic_valence_class(double valence) {
  GLER_CHECK(std::isfinite(valence), "valence " << format_value(valence) << " is not a number int() takes");
  const double v = std::trunc(valence);  // Python's int()
  GLER_CHECK(v >= 1 && v <= 10, "valence " << format_value(valence) << " is outside EmotiC's 1..10 (int(valence) − 1 = "
                                           << format_value(v - 1) << ", which the seed's bins "
                                           << (v > 10 ? "leave unmapped" : "would put in class 0") << ")");
  const int label = static_cast<int>(v) - 1;
  if (label < 4) return 0;
  if (label < 7) return 1;
  return 2;  // the seed: label >= 6 and < 10
}

std::vector<Example> list_emotic_split(const DatasetOptions& options, Split split) {
  GLER_CHECK(split != Split::eval, "EmotiC has no eval split (the seed's EmotiC pretraining uses train and val only)");
  GLER_CHECK(!options.full_dataset, "full_dataset does not apply to EmotiC (the seed's EmotiC pretraining trains on train, selects on val)");
  const std::string file = (options.root / "emotic" / (std::string(split_name(split)) + "_annotations.npz")).string();
  std::error_code ec;
  GLER_CHECK(fs::is_regular_file(file, ec), file << ": no EmotiC annotation file (ROOT/emotic/{train,val}_annotations.npz)");
  const std::map<std::string, wi::NdArray> arrays = wi::read_npz(file);  // throws naming the file
  const std::vector<std::string>& images = string_array(arrays, "image", file);
  const std::vector<std::string>& folders = string_array(arrays, "folder", file);
  const std::vector<double> valences = numeric_array(arrays, "valence", file);
  GLER_CHECK(images.size() == folders.size() && images.size() == valences.size(),
             file << ": arrays of different lengths: image " << images.size() << ", folder " << folders.size() << ", valence "
                  << valences.size());
  std::vector<Example> examples;
  examples.reserve(images.size());
  for (std::size_t i = 0; i < images.size(); ++i) {
    const auto entry = [&] { return file + ": entry " + std::to_string(i) + " (folder '" + folders[i] + "', image '" + images[i] + "')"; };
    GLER_CHECK(!images[i].empty(), entry() << ": empty image name");
    GLER_CHECK(!fs::path(folders[i]).is_absolute() && !fs::path(images[i]).is_absolute(),
               entry() << ": an absolute path, which os.path.join would take instead of the dataset root");
    Example e;
    try {
      e.label = emotic_valence_class(valences[i]);
    } catch (const Error& err) {
      throw Error(entry() + ": " + err.what());
    }
    e.image = (options.root / "emotic" / folders[i] / images[i]).string();
    e.split_dir = "emotic";
    e.label_dir = kClassFolders[static_cast<std::size_t>(e.label)];
    e.stem = models::faces::seed_stem(fs::path(images[i]).filename().string());
    examples.push_back(std::move(e));
  }
  return examples;
}

FloatImage emotic_float_image(const io::Image& decoded) {
  GLER_CHECK(!decoded.empty(), "an empty image");
  const int c = decoded.channels;
  GLER_CHECK(c == 1 || c == 3 || c == 4, "an image with " << c << " channels");
  // The array the seed continues with, as (h, w, channels) over the decoded bytes: `pick` gives
  // the byte of element (y, x, k).
  int h = decoded.height, w = decoded.width, ch = c;
  bool hack = false;
  if (decoded.height == 2) {  // `if len(image) == 2: image = image[0]`
    GLER_CHECK(c != 1, "a 2-row greyscale image: the seed's first-dimension hack leaves a 1-D array, which its loader cannot use");
    hack = true;  // row 0, a (W, C) array: greyscale of height W and width C
    h = decoded.width;
    w = c;
    ch = 1;
  }
  FloatImage out;
  out.height = h;
  out.width = w;
  out.channels = 3;
  out.values.resize(static_cast<std::size_t>(h) * w * 3);
  const std::uint8_t* row0 = decoded.row(0);
  for (int y = 0; y < h; ++y) {
    const std::uint8_t* src = hack ? row0 + static_cast<std::size_t>(y) * c : decoded.row(y);
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < 3; ++k) {
        const std::uint8_t v = ch == 1 ? src[x] : src[static_cast<std::size_t>(x) * ch + k];
        out.values[(static_cast<std::size_t>(y) * w + x) * 3 + k] = static_cast<float>(static_cast<double>(v) / 255.0);
      }
  }
  return out;
}

ImageSize emotic_rescale_size(int height, int width) {
  GLER_CHECK(height >= 1 && width >= 1, "Rescale: an empty image (" << width << "x" << height << ")");
  const auto longer = [](int l, int s) {
    const double v = static_cast<double>(static_cast<long long>(kSize) * l) / static_cast<double>(s);
    GLER_CHECK(v < 1e9, "Rescale: a " << l << ":" << s << " image would be " << v << " pixels long");
    return static_cast<int>(v);
  };
  if (height > width) return {longer(height, width), kSize};
  return {kSize, longer(width, height)};
}

FloatImage skimage_resize_window(const FloatImage& image, int out_height, int out_width, int top, int left, int rows, int cols) {
  GLER_CHECK(image.height >= 1 && image.width >= 1 && image.channels >= 1 &&
                 image.values.size() == static_cast<std::size_t>(image.height) * image.width * image.channels,
             "resize: a malformed image");
  GLER_CHECK(out_height >= 1 && out_width >= 1, "resize: an empty output size");
  GLER_CHECK(top >= 0 && left >= 0 && rows >= 0 && cols >= 0 && top + rows <= out_height && left + cols <= out_width,
             "resize: window " << rows << "x" << cols << " at (" << top << ", " << left << ") outside " << out_height << "x" << out_width);
  const int H = image.height, W = image.width, C = image.channels;
  FloatImage out;
  out.height = rows;
  out.width = cols;
  out.channels = C;
  out.values.resize(static_cast<std::size_t>(rows) * cols * C);
  if (rows == 0 || cols == 0) return out;

  const AxisSamples ys = zoom_axis(H, out_height, top, rows);
  const AxisSamples xs = zoom_axis(W, out_width, left, cols);

  // Anti-aliasing when any side shrinks; sigma per axis max(0, (in/out − 1) / 2), axes with
  // sigma <= 1e-15 skipped (gaussian_filter).
  const bool anti_aliasing = out_height < H || out_width < W;
  const double sy = anti_aliasing ? std::max(0.0, (static_cast<double>(H) / out_height - 1) / 2) : 0.0;
  const double sx = anti_aliasing ? std::max(0.0, (static_cast<double>(W) / out_width - 1) / 2) : 0.0;

  // gaussian_filter's passes (correlate1d's symmetric path: x[0]·w[0], then + (x[−j] + x[+j])·w[j]
  // for j = radius … 1, in double, stored as float32), over the rows [ys.lo, ys.hi] and columns
  // [xs.lo, xs.hi] the zoom reads and the columns the second pass needs. Each sum is accumulated
  // across a whole row at a time, in the same order per element.
  const std::vector<double> ky = sy > 1e-15 ? gaussian_half_kernel(sy) : std::vector<double>{};
  const std::vector<double> kx = sx > 1e-15 ? gaussian_half_kernel(sx) : std::vector<double>{};
  const int ry = ky.empty() ? 0 : static_cast<int>(ky.size()) - 1;
  const int rx = kx.empty() ? 0 : static_cast<int>(kx.size()) - 1;
  const int fr = ys.hi - ys.lo + 1;
  // Pass 1 (axis 0) output columns [c_lo, c_hi]: every mirrored index of [xs.lo − rx, xs.hi + rx]
  // lies there when rx < W.
  const int c_lo = rx < W ? std::max(0, xs.lo - rx) : 0;
  const int c_hi = rx < W ? std::min(W - 1, xs.hi + rx) : W - 1;
  const std::size_t p1_width = static_cast<std::size_t>(c_hi - c_lo + 1) * C;
  std::vector<float> pass1;
  const float* p1 = nullptr;  // row ys.lo + r, column c_lo + q: p1[r * p1_stride + (q) * C + c]
  std::size_t p1_stride = 0;
  int p1_col0 = 0;
  if (!ky.empty()) {
    pass1.resize(static_cast<std::size_t>(fr) * p1_width);
    std::vector<double> acc(p1_width);
    const std::size_t row = static_cast<std::size_t>(W) * C, col = static_cast<std::size_t>(c_lo) * C;
    for (int y = ys.lo; y <= ys.hi; ++y) {
      const float* center = image.values.data() + static_cast<std::size_t>(y) * row + col;
      for (std::size_t i = 0; i < p1_width; ++i) acc[i] = static_cast<double>(center[i]) * ky[0];
      for (int j = ry; j >= 1; --j) {
        const float* a = image.values.data() + static_cast<std::size_t>(mirror_index(y - j, H)) * row + col;
        const float* b = image.values.data() + static_cast<std::size_t>(mirror_index(y + j, H)) * row + col;
        const double w = ky[static_cast<std::size_t>(j)];
        for (std::size_t i = 0; i < p1_width; ++i) acc[i] += (static_cast<double>(a[i]) + static_cast<double>(b[i])) * w;
      }
      float* dst = pass1.data() + static_cast<std::size_t>(y - ys.lo) * p1_width;
      for (std::size_t i = 0; i < p1_width; ++i) dst[i] = static_cast<float>(acc[i]);
    }
    p1 = pass1.data();
    p1_stride = p1_width;
    p1_col0 = c_lo;
  } else {
    p1 = image.values.data() + static_cast<std::size_t>(ys.lo) * W * C;
    p1_stride = static_cast<std::size_t>(W) * C;
    p1_col0 = 0;
  }
  const float* filtered = p1;  // rows from ys.lo, columns from col0
  std::size_t row_stride = p1_stride;
  int col0 = p1_col0;
  std::vector<float> pass2;
  if (!kx.empty()) {
    // Pass 2 (axis 1) over columns [xs.lo, xs.hi], from a line extended to [xs.lo − rx, xs.hi + rx].
    const int fc = xs.hi - xs.lo + 1;
    const std::size_t out_width = static_cast<std::size_t>(fc) * C;
    pass2.resize(static_cast<std::size_t>(fr) * out_width);
    std::vector<double> ext(static_cast<std::size_t>(fc + 2 * rx) * C), acc(out_width);
    for (int r = 0; r < fr; ++r) {
      const float* line = p1 + static_cast<std::size_t>(r) * p1_stride;
      for (int g = xs.lo - rx; g <= xs.hi + rx; ++g) {
        const float* v = line + static_cast<std::size_t>(mirror_index(g, W) - p1_col0) * C;
        for (int c = 0; c < C; ++c) ext[static_cast<std::size_t>(g - (xs.lo - rx)) * C + c] = static_cast<double>(v[c]);
      }
      const double* mid = ext.data() + static_cast<std::size_t>(rx) * C;  // column xs.lo
      for (std::size_t i = 0; i < out_width; ++i) acc[i] = mid[i] * kx[0];
      for (int j = rx; j >= 1; --j) {
        const double* a = mid - static_cast<std::ptrdiff_t>(j) * C;
        const double* b = mid + static_cast<std::ptrdiff_t>(j) * C;
        const double w = kx[static_cast<std::size_t>(j)];
        for (std::size_t i = 0; i < out_width; ++i) acc[i] += (a[i] + b[i]) * w;
      }
      float* dst = pass2.data() + static_cast<std::size_t>(r) * out_width;
      for (std::size_t i = 0; i < out_width; ++i) dst[i] = static_cast<float>(acc[i]);
    }
    filtered = pass2.data();
    row_stride = out_width;
    col0 = xs.lo;
  }
  const auto src = [&](int y, int x, int c) {
    return static_cast<double>(filtered[static_cast<std::size_t>(y - ys.lo) * row_stride + static_cast<std::size_t>(x - col0) * C + c]);
  };

  // _clip_warp_output: the input's value range (the float image resize was given).
  const auto [mn, mx] = std::minmax_element(image.values.begin(), image.values.end());
  const float lo = *mn, hi = *mx;

  // NI_ZoomShift's sum: the corner terms in C order, each value · w_row · w_col (· 1 for the
  // channel axis, whose zoom is 1: its second term has weight 0 and adds nothing).
  for (int r = 0; r < rows; ++r) {
    const int y0 = ys.i0[static_cast<std::size_t>(r)], y1 = ys.i1[static_cast<std::size_t>(r)];
    const double wy0 = ys.w0[static_cast<std::size_t>(r)], wy1 = ys.w1[static_cast<std::size_t>(r)];
    for (int q = 0; q < cols; ++q) {
      const int x0 = xs.i0[static_cast<std::size_t>(q)], x1 = xs.i1[static_cast<std::size_t>(q)];
      const double wx0 = xs.w0[static_cast<std::size_t>(q)], wx1 = xs.w1[static_cast<std::size_t>(q)];
      for (int c = 0; c < C; ++c) {
        double t = 0.0;
        t += src(y0, x0, c) * wy0 * wx0;
        t += src(y0, x1, c) * wy0 * wx1;
        t += src(y1, x0, c) * wy1 * wx0;
        t += src(y1, x1, c) * wy1 * wx1;
        const float v = static_cast<float>(t);
        out.values[(static_cast<std::size_t>(r) * cols + q) * C + c] = std::clamp(v, lo, hi);
      }
    }
  }
  return out;
}

CropOffset draw_emotic_crop(int height, int width, Generator& gen) {
  GLER_CHECK(height >= kSize && width >= kSize, "RandomCrop(224) of a " << width << "x" << height << " image");
  CropOffset crop;
  if (height > kSize) crop.top = static_cast<int>(uniform_below(gen, static_cast<std::uint64_t>(height - kSize)));
  if (width > kSize) crop.left = static_cast<int>(uniform_below(gen, static_cast<std::uint64_t>(width - kSize)));
  return crop;
}

namespace {

// Rescale(224), the crop at `crop`, HWC to CHW.
void crop_to_chw(const FloatImage& image, ImageSize size, CropOffset crop, float* dst) {
  const FloatImage window = skimage_resize_window(image, size.height, size.width, crop.top, crop.left, kSize, kSize);
  const std::size_t plane = static_cast<std::size_t>(kSize) * kSize;
  for (int y = 0; y < kSize; ++y)
    for (int x = 0; x < kSize; ++x)
      for (int c = 0; c < 3; ++c) dst[static_cast<std::size_t>(c) * plane + static_cast<std::size_t>(y) * kSize + x] = window.at(y, x, c);
}

}  // namespace

void emotic_global_tensor(const io::Image& decoded, CropOffset crop, float* dst) {
  const FloatImage image = emotic_float_image(decoded);
  crop_to_chw(image, emotic_rescale_size(image.height, image.width), crop, dst);
}

PreparedExample prepare_emotic_example(const Example& example, const DatasetOptions& options, std::uint64_t augment_seed) {
  const models::ModelInfo& model = options.model;
  GLER_CHECK(model.uses_image() && !model.uses_faces() && !model.uses_face_features(),
             "EmotiC pretraining trains the global arch only (EmotiC has no face cache); the model is '" << model.arch << "'");
  PreparedExample prepared;
  const auto skip = [&](const Error& e) {
    const std::string what = e.what();
    prepared.skipped = what.rfind(example.image, 0) == 0 ? what : example.image + ": " + what;
  };
  io::Image decoded;
  try {
    decoded = io::read_image(example.image);
  } catch (const Error& e) {
    skip(e);
    return prepared;
  }
  models::pipeline::GroupSample s;
  s.image = example.image;
  s.width = decoded.width;
  s.height = decoded.height;
  s.global.resize(3 * static_cast<std::size_t>(kSize) * kSize);
  try {
    const FloatImage image = emotic_float_image(decoded);
    const ImageSize size = emotic_rescale_size(image.height, image.width);
    Generator gen(augment_seed);
    const CropOffset crop = draw_emotic_crop(size.height, size.width, gen);
    crop_to_chw(image, size, crop, s.global.data());
  } catch (const Error& e) {
    skip(e);
    return prepared;
  }
  prepared.sample = std::move(s);
  return prepared;
}

}  // namespace gler::train
