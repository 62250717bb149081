#include "io/draw.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.h"

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wuseless-cast"
#endif
#include <stb_easy_font.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace gler::io {
namespace {

void check_rgb(const Image& image) {
  GLER_CHECK(image.channels == 3, "drawing needs an RGB image, got " << image.channels << " channels");
}

// stb_easy_font takes a mutable char*; non-printable characters would be skipped silently.
std::string printable(const std::string& text) {
  std::string s = text;
  for (char& c : s)
    if (c < 32 || c > 126) c = '?';
  return s;
}

}  // namespace

void fill_rect(Image& image, int x1, int y1, int x2, int y2, Rgb color, float alpha) {
  check_rgb(image);
  x1 = std::max(x1, 0), y1 = std::max(y1, 0);
  x2 = std::min(x2, image.width), y2 = std::min(y2, image.height);
  const float a = std::clamp(alpha, 0.0f, 1.0f);
  const float src[3] = {static_cast<float>(color.r), static_cast<float>(color.g), static_cast<float>(color.b)};
  for (int y = y1; y < y2; ++y) {
    std::uint8_t* p = image.row(y) + 3 * x1;
    for (int x = x1; x < x2; ++x, p += 3)
      for (int c = 0; c < 3; ++c) p[c] = static_cast<std::uint8_t>(std::lround(p[c] + a * (src[c] - p[c])));
  }
}

void draw_rect(Image& image, int x1, int y1, int x2, int y2, Rgb color, int thickness) {
  const int t = std::max(1, std::min(thickness, std::min(x2 - x1, y2 - y1) / 2 + 1));
  fill_rect(image, x1, y1, x2, y1 + t, color);
  fill_rect(image, x1, y2 - t, x2, y2, color);
  fill_rect(image, x1, y1 + t, x1 + t, y2 - t, color);
  fill_rect(image, x2 - t, y1 + t, x2, y2 - t, color);
}

void draw_text(Image& image, int x, int y, const std::string& text, Rgb color, int scale) {
  check_rgb(image);
  std::string s = printable(text);
  // About 270 bytes of vertices per character, by stb_easy_font's own estimate; 4 vertices of 16 bytes per quad.
  std::vector<char> vertices(300 * (s.size() + 1));
  const int quads = stb_easy_font_print(0, 0, s.data(), nullptr, vertices.data(), static_cast<int>(vertices.size()));
  for (int q = 0; q < quads; ++q) {
    // A quad's vertex 0 is its top left corner, vertex 2 its bottom right.
    float v0[2], v2[2];
    std::memcpy(v0, vertices.data() + q * 64, sizeof v0);
    std::memcpy(v2, vertices.data() + q * 64 + 32, sizeof v2);
    fill_rect(image, x + static_cast<int>(std::lround(v0[0] * scale)), y + static_cast<int>(std::lround(v0[1] * scale)),
              x + static_cast<int>(std::lround(v2[0] * scale)), y + static_cast<int>(std::lround(v2[1] * scale)), color);
  }
}

int text_width(const std::string& text, int scale) {
  std::string s = printable(text);
  return stb_easy_font_width(s.data()) * scale;
}

int text_height(int scale) {
  char probe[] = "Ag";
  return stb_easy_font_height(probe) * scale;
}

}  // namespace gler::io
