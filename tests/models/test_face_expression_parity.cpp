// face-api's face-expression network against face-api itself: @vladmandic/face-api 1.7.15 run by
// node with its bundled pure-JavaScript TensorFlow.js CPU backend (face_expression_ref.mjs), on the
// faces the bundled MTCNN finds in data/photos and on fixed boxes that reach the corner cases of
// face-api's crop (clipping, fractions, odd and even padding, a 112 square that is not resized,
// up- and downscaling). Checks: the weights gler_import decoded equal tfjs's bit for bit; each crop's
// size; the 112x112 network input; the probabilities within 1e-4; tf.image.resizeBilinear with every
// option against io::resize_bilinear_tfjs. The package comes from scripts/fetch_face_expression.sh
// (into <build>/face_expression, once per build folder); without node, or without npm and network
// before the first fetch, the test says `skipped: ...` and passes.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/autograd.h"
#include "core/ops.h"
#include "io/image.h"
#include "io/json.h"
#include "io/resize_tfjs.h"
#include "models/face_expression.h"
#include "models/faces/mtcnn_detector.h"
#include "tests/support/run_cli.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tensors.h"
#include "weights_import/tfjs_manifest.h"

using namespace gler;
namespace fs = std::filesystem;

namespace {

struct Photo {
  std::string file;
  io::Image rgb;
  std::vector<models::FaceBox> boxes;
};

std::vector<float> read_floats(const fs::path& p) {
  const std::string bytes = test::slurp(p);
  REQUIRE_MESSAGE(!bytes.empty(), p.string() << " is missing or empty");
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

void write_bytes(const fs::path& p, const void* data, std::size_t n) {
  std::ofstream out(p, std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  REQUIRE(out.good());
}

double max_abs(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
  return m;
}

// An HWC 112x112x3 dump as CHW.
std::vector<float> chw(const std::vector<float>& hwc) {
  std::vector<float> out(hwc.size());
  const std::size_t plane = hwc.size() / 3;
  for (std::size_t i = 0; i < plane; ++i)
    for (std::size_t c = 0; c < 3; ++c) out[c * plane + i] = hwc[3 * i + c];
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("face-api's face-expression net: gler's input and probabilities match face-api's in node") {
  if (test::run_cli("command -v node").status != 0) {
    MESSAGE("skipped: node not found");
    return;
  }
  const fs::path dest = fs::path(GLER_BIN_DIR).parent_path() / "face_expression";
  const test::CliRun fetch = test::run_cli("GLER_IMPORT='" + std::string(GLER_BIN_DIR) + "/gler_import' '" +
                                           GLER_SOURCE_DIR + "/scripts/fetch_face_expression.sh' '" + dest.string() + "'");
  if (fetch.status == 3) {
    MESSAGE("skipped: face-api's model is unavailable: " << fetch.out);
    return;
  }
  REQUIRE_MESSAGE(fetch.status == 0, fetch.out);
  // face-api's ES-module bundle from the verified tarball, named .mjs so that node takes it as one.
  const fs::path bundle = dest / "face-api.esm.mjs";
  if (!fs::exists(bundle)) {
    const std::string part = bundle.string() + ".part" + std::to_string(::getpid());
    const test::CliRun tar = test::run_cli("tar -xzf '" + (dest / "vladmandic-face-api-1.7.15.tgz").string() +
                                           "' -O package/dist/face-api.esm.js > '" + part + "' && mv '" + part + "' '" +
                                           bundle.string() + "'");
    REQUIRE_MESSAGE(tar.status == 0, tar.out);
  }

  const test::TempDir dir("gler_face_expression_parity");
  const models::faces::MtcnnDetector detector(models::faces::bundled_mtcnn_weights());
  std::vector<Photo> photos;
  for (const auto& [name, max_faces] : {std::pair{"ipazc_ivan.jpg", 2}, std::pair{"solvay_1927_gray.jpg", 4},
                                        std::pair{"ipazc_no-faces.jpg", 0}}) {
    Photo p{name, io::to_rgb(io::read_image(std::string(GLER_SOURCE_DIR) + "/data/photos/" + name)), {}};
    const auto faces = detector.detect(p.rgb).faces;
    for (std::size_t i = 0; i < faces.size() && static_cast<int>(i) < max_faces; ++i)
      p.boxes.push_back(models::face_box_from_mtcnn(faces[i].box));
    photos.push_back(std::move(p));
  }
  REQUIRE(photos[0].boxes.size() == 2);
  REQUIRE(photos[1].boxes.size() == 4);
  // ipazc_ivan is 561x561, ipazc_no-faces 199x148.
  for (const models::FaceBox& b : std::vector<models::FaceBox>{
           {-20.5, 400.2, 150.7, 200.3},  // clipped left and bottom
           {100, 50, 112, 112},           // already 112x112: no resize
           {300.9, 10.1, 35.6, 80.2},     // tall: columns padded
           {10, 300, 90.4, 41},           // wide: rows padded
           {200, 200, 13, 9},             // tiny: upscaled 8.6x
           {-50, -50, 700, 700}})         // the whole photo
    photos[0].boxes.push_back(b);
  photos[2].boxes.push_back({0, 0, 199, 148});

  // The inputs node reads: raw RGB files, a float image to resize, and the spec.
  json::Array images;
  for (std::size_t i = 0; i < photos.size(); ++i) {
    const std::string rgb = "photo" + std::to_string(i) + ".rgb";
    write_bytes(dir.path() / rgb, photos[i].rgb.pixels.data(), photos[i].rgb.pixels.size());
    json::Array boxes;
    for (const auto& b : photos[i].boxes) boxes.push_back(json::Array{b.x, b.y, b.width, b.height});
    images.push_back(json::Object{{"rgb", rgb}, {"width", photos[i].rgb.width}, {"height", photos[i].rgb.height},
                                  {"boxes", boxes}});
  }
  const int rh = 9, rw = 13;
  const std::vector<float> resize_src = test::uniform_tensor({rh, rw, 3}, 7, -2, 300).to_vector<float>();
  write_bytes(dir.path() / "resize.f32", resize_src.data(), resize_src.size() * 4);
  struct ResizeCase {
    int height, width;
    bool align_corners, half_pixel_centers;
  };
  const std::vector<ResizeCase> resizes{{7, 20, false, false}, {31, 17, false, false}, {31, 17, true, false},
                                        {7, 20, true, false},  {31, 17, false, true},  {7, 20, false, true},
                                        {1, 5, true, false},   {112, 112, false, false}};
  json::Array sizes;
  for (const auto& r : resizes) sizes.push_back(json::Array{r.height, r.width, r.align_corners, r.half_pixel_centers});
  json::write_file((dir.path() / "spec.json").string(),
                   json::Object{{"images", images},
                                {"resize", json::Object{{"file", "resize.f32"}, {"height", rh}, {"width", rw},
                                                        {"channels", 3}, {"sizes", sizes}}}});

  const auto node_start = std::chrono::steady_clock::now();
  const test::CliRun node = test::run_cli("node '" + std::string(GLER_SOURCE_DIR) + "/tests/models/face_expression_ref.mjs' '" +
                                          bundle.string() + "' '" + dest.string() + "' '" + (dir.path() / "spec.json").string() +
                                          "' '" + dir.path().string() + "'");
  REQUIRE_MESSAGE(node.status == 0, node.out);
  const double node_seconds = seconds_since(node_start);
  const json::Value results = json::parse_file((dir.path() / "results.json").string());
  CHECK(results.at("face_api").as_string() == "1.7.15");
  CHECK(results.at("backend").as_string() == "cpu");
  std::vector<std::string> labels;
  for (const auto& l : results.at("labels").as_array()) labels.push_back(l.as_string());
  CHECK(labels == models::face_expression_labels());

  {  // the weights gler_import decodes are tfjs's, bit for bit
    const wi::StateDict raw = wi::read_tfjs_manifest((dest / "face_expression_model-weights_manifest.json").string());
    const std::vector<float> node_weights = read_floats(dir.path() / "weights.f32");
    std::size_t offset = 0;
    for (const auto& [name, t] : raw.entries) {
      CAPTURE(name);
      REQUIRE(t.dtype == "F32");
      REQUIRE(offset * 4 + t.data.size() <= node_weights.size() * 4);
      CHECK(std::memcmp(t.data.data(), node_weights.data() + offset, t.data.size()) == 0);
      offset += t.data.size() / 4;
    }
    CHECK(offset == node_weights.size());
  }

  {  // inputs and probabilities
    const auto net = models::load_face_expression_net((dest / "face_expression.safetensors").string());
    NoGradGuard no_grad;
    const json::Array& faces = results.at("faces").as_array();
    std::vector<Tensor> ours, theirs;
    std::vector<float> node_probs;
    double input_err = 0, normalise_err = 0;
    std::size_t k = 0;
    double gler_seconds = 0;  // input preparation and the network
    for (const Photo& p : photos)
      for (const models::FaceBox& box : p.boxes) {
        CAPTURE(p.file);
        CAPTURE(box.x);
        CAPTURE(box.y);
        REQUIRE(k < faces.size());
        const json::Value& f = faces[k];
        const models::CropRect crop = models::face_api_crop(box, p.rgb.width, p.rgb.height);
        CHECK(crop.width == f.at("crop").as_array()[0].as_int());
        CHECK(crop.height == f.at("crop").as_array()[1].as_int());
        const auto prepare_start = std::chrono::steady_clock::now();
        const Tensor input = models::face_expression_input(p.rgb, box);
        gler_seconds += seconds_since(prepare_start);
        const std::string stem = "face_" + std::to_string(k);
        const std::vector<float> node_input = chw(read_floats(dir.path() / (stem + ".input.f32")));
        input_err = std::max(input_err, max_abs(input.to_vector<float>(), node_input));
        // face-api's normalisation of its own resized crop, as gler computes it.
        std::vector<float> node_raw = chw(read_floats(dir.path() / (stem + ".raw.f32")));
        const float mean[3] = {122.782f, 117.001f, 104.298f};
        for (std::size_t i = 0; i < node_raw.size(); ++i) node_raw[i] = (node_raw[i] - mean[i / (112 * 112)]) / 255.0f;
        normalise_err = std::max(normalise_err, max_abs(node_raw, node_input));
        ours.push_back(input.reshape({1, 3, 112, 112}));
        theirs.push_back(Tensor::from_vector(node_input, {1, 3, 112, 112}));
        for (const auto& v : f.at("probs").as_array()) node_probs.push_back(static_cast<float>(v.as_number()));
        ++k;
      }
    CHECK(k == faces.size());
    const auto net_start = std::chrono::steady_clock::now();
    const std::vector<float> probs = net->probabilities(ops::concat(ours, 0)).to_vector<float>();
    gler_seconds += seconds_since(net_start);
    const std::vector<float> probs_on_node_input = net->probabilities(ops::concat(theirs, 0)).to_vector<float>();
    const double prob_err = max_abs(probs, node_probs), net_err = max_abs(probs_on_node_input, node_probs);
    MESSAGE(k << " faces: input max |gler - node| " << input_err << ", probabilities " << prob_err
              << " (on node's own input " << net_err << "); node " << node_seconds
              << " s for everything (start and weight loading included), gler " << gler_seconds
              << " s for the inputs and one batch through the network");
    CHECK(normalise_err == 0);
    CHECK(input_err == 0);
    CHECK(prob_err < 1e-4);
    CHECK(net_err < 1e-4);
  }

  {  // tf.image.resizeBilinear, every option
    for (std::size_t i = 0; i < resizes.size(); ++i) {
      const ResizeCase& r = resizes[i];
      CAPTURE(r.height);
      CAPTURE(r.width);
      CAPTURE(r.align_corners);
      CAPTURE(r.half_pixel_centers);
      const std::vector<float> ours =
          io::resize_bilinear_tfjs(resize_src.data(), rh, rw, 3, r.height, r.width, r.align_corners, r.half_pixel_centers);
      CHECK(ours == read_floats(dir.path() / ("resize_" + std::to_string(i) + ".f32")));
    }
  }
}
