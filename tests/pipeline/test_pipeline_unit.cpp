// The pieces of gler_infer's pipeline one by one: the INPUT list (files, folders, @LIST), batching
// samples into model inputs, predictions as JSON and CSV, drawing.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include "io/draw.h"
#include "models/pipeline/annotate.h"
#include "models/pipeline/group_sample.h"
#include "models/pipeline/image_inputs.h"
#include "models/pipeline/prediction.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using namespace gler;
using namespace gler::models;
using namespace gler::models::pipeline;

namespace {

void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("INPUTs: files as given, folders in sorted order with their relative paths, @LIST files") {
  test::TempDir dir("gler_pipeline_inputs");
  const fs::path& d = dir.path();
  touch(d / "photos" / "b.jpg");
  touch(d / "photos" / "a" / "c.PNG");
  touch(d / "photos" / "notes.txt");
  touch(d / "single.jpg");
  std::ofstream(d / "list.txt") << "# a comment\n\nphotos/b.jpg\r\n" << (d / "single.jpg").string() << "\n";
  const auto inputs = collect_image_inputs({(d / "single.jpg").string(), (d / "photos").string(), "@" + (d / "list.txt").string()});
  REQUIRE(inputs.size() == 5);
  CHECK(inputs[0].relative == "single.jpg");
  CHECK(inputs[1].relative == fs::path("a") / "c.PNG");
  CHECK(inputs[2].relative == "b.jpg");
  CHECK(inputs[3].path == (d / "photos" / "b.jpg").string());
  CHECK(inputs[3].relative == fs::path("photos") / "b.jpg");
  CHECK(inputs[4].relative == "single.jpg");

  fs::create_directories(d / "empty");
  std::ofstream(d / "blank.txt") << "\n# nothing\n";
  std::ofstream(d / "bad.txt") << "missing.jpg\n";
  CHECK(error_of([&] { collect_image_inputs({}); }).find("no INPUT given") != std::string::npos);
  CHECK(error_of([&] { collect_image_inputs({(d / "nope.jpg").string()}); }).find("no such file or folder") != std::string::npos);
  CHECK(error_of([&] { collect_image_inputs({(d / "empty").string()}); }).find("no images found under") != std::string::npos);
  CHECK(error_of([&] { collect_image_inputs({"@" + (d / "blank.txt").string()}); }).find("names no images") != std::string::npos);
  CHECK(error_of([&] { collect_image_inputs({"@" + (d / "bad.txt").string()}); }).find("missing.jpg: no such file") !=
        std::string::npos);
  CHECK(error_of([&] { collect_image_inputs({"@" + (d / "absent.txt").string()}); }).find("cannot read the list") !=
        std::string::npos);
}

TEST_CASE("make_batch stacks samples, zero-fills empty slots and records the counts") {
  ModelInfo info;
  info.arch = "attention_c";
  info.seed_compat = true;
  info.max_faces = 3;
  const std::size_t face_values = 3 * 96 * 112, global_values = 3 * 224 * 224;
  GroupSample a, b;
  a.global.assign(global_values, 1.0f);
  b.global.assign(global_values, 2.0f);
  a.faces_used = 2;
  a.face_pixels.assign(2 * face_values, 0.5f);
  b.faces_used = 0;
  const GlerInput in = make_batch({&a, &b}, info);
  CHECK(in.images.shape() == Shape({2, 3, 224, 224}));
  CHECK(in.faces.shape() == Shape({2, 3, 3, 96, 112}));
  CHECK(in.face_counts.to_vector<std::int64_t>() == std::vector<std::int64_t>{2, 0});
  CHECK_FALSE(in.face_features.defined());
  const std::vector<float> faces = in.faces.to_vector<float>(), images = in.images.to_vector<float>();
  CHECK(faces[0] == 0.5f);
  CHECK(faces[2 * face_values - 1] == 0.5f);
  CHECK(faces[2 * face_values] == 0.0f);   // image 0, slot 2: empty
  CHECK(faces[3 * face_values] == 0.0f);   // image 1: no faces
  CHECK(images[global_values] == 2.0f);

  info.arch = "average";
  GroupSample c;
  c.global.assign(global_values, 0.0f);
  c.faces_used = 1;
  c.face_features.assign(256, 3.0f);
  const GlerInput avg = make_batch({&c}, info);
  CHECK(avg.face_features.shape() == Shape({1, 3, 256}));
  CHECK(avg.face_features.to_vector<float>()[255] == 3.0f);
  CHECK(avg.face_features.to_vector<float>()[256] == 0.0f);
  CHECK_FALSE(avg.faces.defined());
}

TEST_CASE("predictions: softmax probabilities, the first arg-max, JSON and CSV") {
  GroupSample s;
  s.image = "x,\"y\".jpg";
  s.detected = true;
  s.faces_found = 2;
  s.faces_used = 1;
  s.faces.resize(2);
  s.faces[0].box = {1, 2, 30, 40};
  s.faces[0].score = 0.99;
  GlerOutput out;
  out.logits = Tensor::from_vector(std::vector<float>{0.0f, 0.0f, 0.0f, 1.0f, 3.0f, 3.0f}, Shape({2, 3}));
  out.attention = Tensor::from_vector(std::vector<float>{1.0f, 0.0f, 0.5f, 0.5f}, Shape({2, 2}));
  const Prediction tie = make_prediction(s, out, 1, ModelInfo{});
  CHECK(tie.label == 1);  // equal maxima: the first
  CHECK(std::abs(tie.probs[0] + tie.probs[1] + tie.probs[2] - 1.0) < 1e-12);
  CHECK(std::abs(tie.probs[0] - std::exp(-2.0) / (std::exp(-2.0) + 2.0)) < 1e-12);
  const json::Value v = to_json(make_prediction(s, out, 0, ModelInfo{}));
  CHECK(v.at("label").as_string() == "Negative");
  CHECK(v.at("probs").at("Positive").as_number() == doctest::Approx(1.0 / 3));
  CHECK(v.at("faces_found").as_int() == 2);
  const json::Array& faces = v.at("faces").as_array();
  REQUIRE(faces.size() == 2);
  CHECK(faces[0].at("used").as_bool());
  CHECK(faces[0].at("attention").as_number() == 1.0);
  CHECK(faces[0].at("box").as_array()[3].as_number() == 40);
  CHECK(faces[0].at("landmarks").as_array().size() == 5);
  CHECK_FALSE(faces[1].at("used").as_bool());
  CHECK(faces[1].find("attention") == nullptr);
  CHECK(v.at("error").is_null());

  const std::string row = to_csv_row(make_prediction(s, out, 0, ModelInfo{}));
  CHECK(row.rfind("\"x,\"\"y\"\".jpg\",Negative,", 0) == 0);
  CHECK(row.substr(row.size() - 7) == ",2,1,,\n");
  const Prediction failed = failed_prediction("bad.jpg", "truncated");
  CHECK(to_json(failed).at("error").as_string() == "truncated");
  CHECK(to_csv_row(failed) == "bad.jpg,,,,,,,,,,,truncated\n");
  const std::string header = csv_header();
  const std::string failed_row = to_csv_row(failed);  // a name without commas: one per column
  CHECK(std::count(header.begin(), header.end(), ',') == std::count(failed_row.begin(), failed_row.end(), ','));
}

TEST_CASE("drawing: clipped rectangles, blended fills, text, and an annotated picture") {
  io::Image img(40, 30, 3);
  io::fill_rect(img, -5, -5, 10, 10, {200, 100, 0});
  CHECK(img.row(0)[0] == 200);
  CHECK(img.row(9)[3 * 9 + 1] == 100);
  CHECK(img.row(10)[0] == 0);
  io::fill_rect(img, 0, 0, 1, 1, {0, 0, 0}, 0.5f);
  CHECK(img.row(0)[0] == 100);
  io::draw_rect(img, 20, 5, 30, 15, {255, 255, 255}, 2);
  CHECK(img.row(5)[3 * 25] == 255);
  CHECK(img.row(10)[3 * 25] == 0);  // inside the outline
  CHECK(img.row(10)[3 * 21] == 255);
  io::Image text(80, 20, 3);
  io::draw_text(text, 1, 1, "Ag 0.5", {255, 255, 255}, 1);
  std::size_t lit = 0;
  for (auto p : text.pixels) lit += p == 255;
  CHECK(lit > 20);
  CHECK(io::text_width("Ag", 2) == 2 * io::text_width("Ag", 1));
  CHECK(io::text_height(3) > 0);
  io::Image gray(4, 4, 1);
  CHECK(error_of([&] { io::fill_rect(gray, 0, 0, 1, 1, {}); }).find("needs an RGB image") != std::string::npos);

  Prediction p;
  p.label = 2;
  p.probs = {0.1, 0.2, 0.7};
  p.faces.resize(2);
  p.faces[0].box = {100, 100, 150, 160};
  p.faces[1].box = {10, 120, 40, 150};
  p.faces_used = 1;
  p.attention = {1.0};
  io::Image photo(300, 200, 3);
  const io::Image a = annotate(photo, p);
  CHECK(a.width == 300);
  CHECK(a.row(130)[3 * 125 + 2] > 0);  // the used face is shaded
  CHECK(a.row(120)[3 * 10] == 160);    // the unused one outlined in grey
  CHECK(a.row(135)[3 * 25] == 0);      // and not shaded
  bool label_drawn = false;  // the banner's label in the Positive colour
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < a.width; ++x) label_drawn |= a.row(y)[3 * x] == 39 && a.row(y)[3 * x + 1] == 174 && a.row(y)[3 * x + 2] == 96;
  CHECK(label_drawn);
}
