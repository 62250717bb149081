#include "models/pipeline/annotate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "io/draw.h"
#include "models/face_expression.h"

namespace gler::models::pipeline {
namespace {

constexpr std::array<io::Rgb, 3> kClassColors = {io::Rgb{214, 48, 49}, io::Rgb{241, 196, 15}, io::Rgb{39, 174, 96}};
constexpr io::Rgb kFace{0, 168, 255}, kUnused{160, 160, 160}, kWhite{255, 255, 255}, kBlack{0, 0, 0};

std::string fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

int rounded(double v) { return static_cast<int>(std::lround(v)); }

}  // namespace

io::Image annotate(const io::Image& picture, const Prediction& p) {
  io::Image out = picture;
  const int scale = std::max(1, std::min(out.width, out.height) / 250);
  const int line = std::max(2, scale);
  // Attention shades relative to the largest weight, so a crowd's small weights stay visible.
  double top = 0;
  for (double w : p.attention) top = std::max(top, w);
  for (std::size_t i = 0; i < p.faces.size(); ++i) {
    const auto& b = p.faces[i].box;
    const int x1 = rounded(b[0]), y1 = rounded(b[1]), x2 = rounded(b[2]) + 1, y2 = rounded(b[3]) + 1;
    if (i >= static_cast<std::size_t>(p.faces_used)) {
      io::draw_rect(out, x1, y1, x2, y2, kUnused, 1);
      continue;
    }
    const bool weighted = i < p.attention.size();
    const double share = weighted && top > 0 ? p.attention[i] / top : 1.0;
    io::fill_rect(out, x1, y1, x2, y2, kFace, static_cast<float>(0.1 + 0.45 * share));
    io::draw_rect(out, x1, y1, x2, y2, kFace, line);
    std::string tag = std::to_string(i);
    if (i < p.expressions.size()) {
      // The default model: the face's most likely expression.
      const auto& e = p.expressions[i];
      tag.append(" ").append(models::face_expression_labels()[static_cast<std::size_t>(std::max_element(e.begin(), e.end()) - e.begin())]);
    }
    if (weighted) tag.append(" ").append(fixed(p.attention[i], 2));
    // Tags no wider than about their face, so a crowd's tags overlap less.
    const int tag_scale = std::clamp((x2 - x1) / 28, 1, scale);
    const int th = io::text_height(tag_scale) + 2, tw = io::text_width(tag, tag_scale) + 4;
    const int ty = y1 - th >= 0 ? y1 - th : y1;
    io::fill_rect(out, x1, ty, x1 + tw, ty + th, kFace);
    io::draw_text(out, x1 + 2, ty + 1, tag, kWhite, tag_scale);
  }
  // The banner: the label in its class colour, then the three probabilities; smaller, then with
  // short class names, until it fits the photo's width.
  const std::string label = kClassNames[static_cast<std::size_t>(p.label)];
  auto probs_text = [&](bool short_names) {
    std::string t;
    for (std::size_t c = 0; c < 3; ++c)
      t.append("  ").append(std::string(kClassNames[c]).substr(0, short_names ? 3 : std::string::npos)).append(" ").append(fixed(p.probs[c], 2));
    return t;
  };
  int banner_scale = scale + 1;
  std::string probs = probs_text(false);
  auto width = [&] { return 3 * banner_scale + io::text_width(label + probs, banner_scale); };
  while (width() > out.width && banner_scale > 1) {
    if (banner_scale <= 2 && probs == probs_text(false)) probs = probs_text(true);
    else --banner_scale;
  }
  const int bh = io::text_height(banner_scale) + 6, x = 3 * banner_scale;
  io::fill_rect(out, 0, 0, out.width, bh, kBlack, 0.7f);
  io::draw_text(out, x, 3, label, kClassColors[static_cast<std::size_t>(p.label)], banner_scale);
  io::draw_text(out, x + io::text_width(label, banner_scale), 3, probs, kWhite, banner_scale);
  return out;
}

}  // namespace gler::models::pipeline
