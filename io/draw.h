// Drawing on RGB images for pictures people look at (gler_infer --annotate): translucent filled
// rectangles, outlines, and text in stb_easy_font's small ASCII bitmap font, scaled up by whole
// pixels. Everything is clipped to the image.
#pragma once
#include <cstdint>
#include <string>

#include "io/image.h"

namespace gler::io {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
};

// Blends `color` over the pixels of [x1, x2) x [y1, y2) with opacity alpha in [0, 1].
void fill_rect(Image& image, int x1, int y1, int x2, int y2, Rgb color, float alpha = 1.0f);
// The outline of [x1, x2) x [y1, y2), `thickness` pixels wide, inside the rectangle.
void draw_rect(Image& image, int x1, int y1, int x2, int y2, Rgb color, int thickness = 1);

// Printable ASCII (others are drawn as '?'); `scale` pixels per font unit. (x, y) is the top left.
void draw_text(Image& image, int x, int y, const std::string& text, Rgb color, int scale = 2);
int text_width(const std::string& text, int scale = 2);
int text_height(int scale = 2);

}  // namespace gler::io
