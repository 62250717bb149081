// The training-curves SVG: well-formed (balanced tags, quoted attributes), title escaped, one
// polyline per series, every coordinate inside the picture and never "nan"/"inf", for 0, 1 and
// many epochs, constant values and non-finite ones.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "tests/support/temp_dir.h"
#include "train/report/curves_svg.h"

using namespace gler;
using namespace gler::train;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kRing = "r=\"6\"";  // the best-epoch ring; data dots are smaller

// Empty when every start tag has its end tag, in order, and no raw '<' or '&' is left in text.
std::string tag_problem(const std::string& svg) {
  std::vector<std::string> open;
  std::size_t i = 0;
  while ((i = svg.find('<', i)) != std::string::npos) {
    const std::size_t end = svg.find('>', i);
    if (end == std::string::npos) return "unclosed '<'";
    const std::string tag = svg.substr(i + 1, end - i - 1);
    if (tag.find('<') != std::string::npos) return "'<' inside a tag";
    if (std::count(tag.begin(), tag.end(), '"') % 2) return "unbalanced quotes in <" + tag + ">";
    if (tag.front() == '/') {
      if (open.empty() || open.back() != tag.substr(1)) return "unexpected </" + tag.substr(1) + ">";
      open.pop_back();
    } else if (tag.back() != '/') {
      open.push_back(tag.substr(0, tag.find(' ')));
    }
    i = end + 1;
  }
  if (!open.empty()) return "<" + open.back() + "> not closed";
  // '&' only as an entity.
  for (std::size_t a = svg.find('&'); a != std::string::npos; a = svg.find('&', a + 1)) {
    const std::size_t semi = svg.find(';', a);
    if (semi == std::string::npos || semi - a > 6) return "bare '&'";
  }
  return "";
}

int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (std::size_t i = s.find(what); i != std::string::npos; i = s.find(what, i + 1)) ++n;
  return n;
}

std::string format_1(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", x);
  return buf;
}

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// The points="..." of each polyline, in order, as (x, y) pairs.
std::vector<std::vector<std::pair<double, double>>> polylines(const std::string& svg) {
  std::vector<std::vector<std::pair<double, double>>> out;
  for (std::size_t i = svg.find("<polyline"); i != std::string::npos; i = svg.find("<polyline", i + 1)) {
    const std::size_t from = svg.find("points=\"", i) + 8;
    std::istringstream in(svg.substr(from, svg.find('"', from) - from));
    std::vector<std::pair<double, double>> pts;
    double x, y;
    char comma;
    while (in >> x >> comma >> y) pts.push_back({x, y});
    out.push_back(pts);
  }
  return out;
}

// Every number after x=, y=, cx=, cy=, x1=, ... and in points: inside the 800x400 picture.
void check_inside(const std::string& svg) {
  for (const auto& line : polylines(svg))
    for (auto [x, y] : line) {
      CHECK(x >= 0);
      CHECK(x <= 800);
      CHECK(y >= 0);
      CHECK(y <= 400);
    }
  for (const char* attr : {" x=\"", " y=\"", " cx=\"", " cy=\"", " x1=\"", " x2=\"", " y1=\"", " y2=\""})
    for (std::size_t i = svg.find(attr); i != std::string::npos; i = svg.find(attr, i + 1)) {
      const double v = std::strtod(svg.c_str() + i + std::char_traits<char>::length(attr), nullptr);
      CHECK(v >= 0);
      CHECK(v <= 800);
    }
}

void check_well_formed(const std::string& svg) {
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("</svg>") != std::string::npos);
  CHECK(tag_problem(svg) == "");
  CHECK(lower(svg).find("nan") == std::string::npos);
  CHECK(lower(svg).find("inf") == std::string::npos);
  CHECK(svg.find("<script") == std::string::npos);
  CHECK(svg.find("http") == svg.find("http://www.w3.org/2000/svg"));  // nothing else to fetch
  check_inside(svg);
}

EpochRecord record(int epoch, double loss, double accuracy, bool best = false) {
  return {epoch, 0.01, loss, accuracy, loss + 0.1, accuracy - 0.05, 100, 20, 0, 1.0, best};
}

}  // namespace

TEST_CASE("no epochs: a valid picture that says so") {
  const std::string svg = training_curves_svg({}, "run 0");
  check_well_formed(svg);
  CHECK(svg.find("no epochs yet") != std::string::npos);
  CHECK(count(svg, "<polyline") == 0);
}

TEST_CASE("several epochs: four series, epoch labels, the best epoch ringed on val accuracy") {
  const std::vector<EpochRecord> records = {record(1, 1.1, 0.40, true), record(2, 0.9, 0.55, true),
                                            record(3, 0.8, 0.70, true), record(4, 0.85, 0.65)};
  const std::string svg = training_curves_svg(records, "densenet161 & faces <attention_c>");
  check_well_formed(svg);
  CHECK(svg.find("densenet161 &amp; faces &lt;attention_c&gt;") != std::string::npos);
  CHECK(svg.find("<attention_c>") == std::string::npos);
  const auto lines = polylines(svg);
  REQUIRE(lines.size() == 4);  // loss train, loss val, accuracy train, accuracy val
  for (const auto& l : lines) CHECK(l.size() == 4);
  for (const char* label : {">1</text>", ">2</text>", ">3</text>", ">4</text>"}) CHECK(svg.find(label) != std::string::npos);
  CHECK(svg.find(">100%</text>") != std::string::npos);
  CHECK(svg.find(">0%</text>") != std::string::npos);
  // x grows with the epoch; the training loss falls from epoch 1 to 3 so its y grows (SVG y is down).
  CHECK(lines[0][0].first < lines[0][1].first);
  CHECK(lines[0][0].second < lines[0][2].second);
  // Accuracy: 0.40 -> 0.70 rises, so y falls; the val curve lies below the train curve.
  CHECK(lines[2][2].second < lines[2][0].second);
  CHECK(lines[3][0].second > lines[2][0].second);
  // The ring sits on epoch 3 of the val accuracy, the last epoch flagged best.
  REQUIRE(count(svg, kRing) == 2);  // on the curve and in the legend
  const std::size_t circle = svg.rfind("<circle", svg.find(kRing));
  const double cx = std::strtod(svg.c_str() + svg.find("cx=\"", circle) + 4, nullptr);
  const double cy = std::strtod(svg.c_str() + svg.find("cy=\"", circle) + 4, nullptr);
  CHECK(cx == doctest::Approx(lines[3][2].first));
  CHECK(cy == doctest::Approx(lines[3][2].second));
  CHECK(svg.find(">best</text>") != std::string::npos);
  CHECK(svg.find("best (epoch 3)") != std::string::npos);
}

TEST_CASE("one epoch: each series is one point with a dot, centred in x") {
  const std::string svg = training_curves_svg({record(1, 0.7, 0.6, true)}, "one");
  check_well_formed(svg);
  const auto lines = polylines(svg);
  REQUIRE(lines.size() == 4);
  for (const auto& l : lines) {
    REQUIRE(l.size() == 1);
    const std::string at = "cx=\"" + format_1(l[0].first) + "\" cy=\"" + format_1(l[0].second) + "\" r=\"2.5\"";
    CHECK(svg.find(at) != std::string::npos);
  }
  CHECK(lines[0][0].first == lines[1][0].first);
  // In the middle of the loss panel's frame (the first rect with an x).
  const std::size_t frame = svg.find("<rect x=\"");
  REQUIRE(frame != std::string::npos);
  const double left = std::strtod(svg.c_str() + frame + 9, nullptr);
  const double width = std::strtod(svg.c_str() + svg.find("width=\"", frame) + 7, nullptr);
  CHECK(lines[0][0].first == doctest::Approx(left + width / 2));
  CHECK(svg.find(">1</text>") != std::string::npos);
}

TEST_CASE("constant values and a constant zero loss give finite coordinates") {
  for (double v : {0.5, 0.0}) {
    std::vector<EpochRecord> records;
    for (int e = 1; e <= 5; ++e) records.push_back({e, 0.1, v, v, v, v, 10, 10, 0, 1.0, false});
    const std::string svg = training_curves_svg(records, "flat");
    check_well_formed(svg);
    const auto lines = polylines(svg);
    REQUIRE(lines.size() == 4);
    for (const auto& l : lines) {
      CHECK(l.size() == 5);
      CHECK(l.front().second == l.back().second);  // flat
    }
    CHECK(count(svg, "r=\"2.5\"") == 4 * 5);  // 5 epochs are far apart: dots
    CHECK(count(svg, kRing) == 0);  // no best epoch, no ring
  }
}

TEST_CASE("non-finite values are left out of their series") {
  std::vector<EpochRecord> records = {record(1, 1.0, 0.5), record(2, kNaN, 0.6), record(3, 0.8, 0.7)};
  records[1].val_loss = std::numeric_limits<double>::infinity();
  std::string svg = training_curves_svg(records, "diverged");
  check_well_formed(svg);
  auto lines = polylines(svg);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].size() == 2);
  CHECK(lines[1].size() == 2);
  CHECK(lines[2].size() == 3);

  for (EpochRecord& r : records) r.val_loss = r.val_accuracy = kNaN;  // no validation at all
  records[2].best = true;  // flagged, but with no val accuracy there is nothing to ring
  svg = training_curves_svg(records, "no val");
  check_well_formed(svg);
  CHECK(polylines(svg).size() == 2);
  CHECK(count(svg, kRing) == 0);
}

TEST_CASE("many epochs get a few round tick labels; epochs out of order are refused") {
  std::vector<EpochRecord> records;
  for (int e = 1; e <= 100; ++e) records.push_back(record(e, 2.0 / e, 0.3 + 0.005 * e, e == 90));
  const std::string svg = training_curves_svg(records, "long");
  check_well_formed(svg);
  CHECK(count(svg, "r=\"2.5\"") == 0);  // 100 epochs: too close for dots
  CHECK(svg.find(">20</text>") != std::string::npos);
  CHECK(svg.find(">100</text>") != std::string::npos);
  CHECK(svg.find(">37</text>") == std::string::npos);
  CHECK_THROWS_AS(training_curves_svg({record(2, 1, 0.5), record(1, 1, 0.5)}, "x"), Error);
}

TEST_CASE("write_training_curves writes the same picture to a file") {
  test::TempDir dir("gler_report_curves");
  const std::vector<EpochRecord> records = {record(1, 1.0, 0.5, true)};
  write_training_curves(dir.path() / "curves.svg", records, "file");
  CHECK(test::slurp(dir.path() / "curves.svg") == training_curves_svg(records, "file"));
}
