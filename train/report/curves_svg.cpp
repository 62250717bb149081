#include "train/report/curves_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string_view>

#include "core/error.h"
#include "io/files.h"

namespace gler::train {
namespace {

constexpr double kWidth = 800, kHeight = 400;
constexpr const char* kTrainColour = "#1f77b4";
constexpr const char* kValColour = "#d62728";

struct Box {
  double left, top, width, height;
};

// From lo to hi with hi > lo always, so placing a value never divides by zero.
struct Axis {
  double lo, hi;
  std::vector<double> ticks;
};

std::string format(const char* f, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, x);
  return buf;
}
std::string c(double x) { return format("%.1f", x); }  // a coordinate

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += ch;
    }
  }
  return out;
}

void text(std::string& svg, double x, double y, const char* anchor, const std::string& content,
          const char* extra = "") {
  svg += "<text x=\"" + c(x) + "\" y=\"" + c(y) + "\" text-anchor=\"" + anchor + "\"" + extra + ">" + content +
         "</text>\n";
}

void line(std::string& svg, double x1, double y1, double x2, double y2, const char* stroke, double width = 1) {
  svg += "<line x1=\"" + c(x1) + "\" y1=\"" + c(y1) + "\" x2=\"" + c(x2) + "\" y2=\"" + c(y2) + "\" stroke=\"" +
         stroke + "\" stroke-width=\"" + format("%.4g", width) + "\"/>\n";
}

void ring(std::string& svg, double x, double y) {
  svg += "<circle cx=\"" + c(x) + "\" cy=\"" + c(y) + "\" r=\"6\" fill=\"none\" stroke=\"black\" stroke-width=\"2\"/>\n";
}

// 1, 2 or 5 times a power of ten: the smallest step that needs at most max_ticks steps for span > 0.
double nice_step(double span, int max_ticks) {
  const double raw = span / max_ticks;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (m * p >= raw) return m * p;
  return 10 * p;
}

// [lo, hi] widened outwards to whole steps; a single value (or none) gets room around it first.
Axis value_axis(double lo, double hi) {
  if (!(lo < hi)) {
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double step = nice_step(hi - lo, 6);
  const double k0 = std::floor(lo / step), k1 = std::ceil(hi / step);
  Axis a{k0 * step, k1 * step, {}};
  for (double k = k0; k <= k1; ++k) a.ticks.push_back(k * step + 0.0);  // + 0.0: no "-0" label
  return a;
}

// Whole epochs from first to last; one epoch sits in the middle of the panel.
Axis epoch_axis(int first, int last) {
  if (first == last) return {first - 1.0, last + 1.0, {static_cast<double>(first)}};
  const double step = std::max(1.0, nice_step(last - first, 8));
  Axis a{static_cast<double>(first), static_cast<double>(last), {}};
  for (double t = std::ceil(first / step) * step; t <= last; t += step) a.ticks.push_back(t);
  return a;
}

double place(double v, const Axis& a, double from, double length) {
  return from + (v - a.lo) / (a.hi - a.lo) * length;
}

struct Panel {
  Box box;
  const char* name;
  Axis x, y;
  double scale;             // record value -> axis value (fractions -> percent)
  const char* tick_format;  // printf format of the y tick labels
  double px(double epoch) const { return place(epoch, x, box.left, box.width); }
  double py(double v) const { return box.top + box.height - place(v * scale, y, 0, box.height); }
};

void draw_frame(std::string& svg, const Panel& p) {
  const Box& b = p.box;
  const double bottom = b.top + b.height;
  for (double t : p.y.ticks) {
    const double y = b.top + b.height - place(t, p.y, 0, b.height);
    line(svg, b.left, y, b.left + b.width, y, "#e4e4e4");
    text(svg, b.left - 6, y + 4, "end", format(p.tick_format, t));
  }
  for (double t : p.x.ticks) {
    const double x = p.px(t);
    line(svg, x, bottom, x, bottom + 5, "#555");
    text(svg, x, bottom + 18, "middle", format("%.0f", t));
  }
  svg += "<rect x=\"" + c(b.left) + "\" y=\"" + c(b.top) + "\" width=\"" + c(b.width) + "\" height=\"" +
         c(b.height) + "\" fill=\"none\" stroke=\"#555\"/>\n";
  text(svg, b.left + b.width / 2, b.top - 10, "middle", p.name, " font-weight=\"bold\"");
  text(svg, b.left + b.width / 2, bottom + 36, "middle", "epoch");
}

// One polyline through the finite values, and a dot on each while epochs are far enough apart
// for dots to read as points (always for a lone point, which a polyline alone would not show).
void draw_series(std::string& svg, const Panel& p, const std::vector<EpochRecord>& records,
                 double EpochRecord::*field, const char* colour) {
  const bool dots = p.px(p.x.lo + 1) - p.px(p.x.lo) >= 12;
  std::string points, circles;
  for (const EpochRecord& r : records) {
    if (!std::isfinite(r.*field)) continue;
    const std::string x = c(p.px(r.epoch)), y = c(p.py(r.*field));
    if (!points.empty()) points += ' ';
    points += x + "," + y;
    if (dots) circles += "<circle cx=\"" + x + "\" cy=\"" + y + "\" r=\"2.5\" fill=\"" + colour + "\"/>\n";
  }
  if (points.empty()) return;
  svg += "<polyline fill=\"none\" stroke=\"" + std::string(colour) +
         "\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"" + points + "\"/>\n" + circles;
}

// Finite values of the fields, over all records, as a value axis.
Axis loss_axis(const std::vector<EpochRecord>& records) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const EpochRecord& r : records)
    for (double v : {r.train_loss, r.val_loss})
      if (std::isfinite(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
  return lo <= hi ? value_axis(lo, hi) : value_axis(0, 1);
}

void draw_legend(std::string& svg, const EpochRecord* best) {
  const double y = kHeight - 18;
  double x = kWidth / 2 - 150;
  for (auto [colour, name] : {std::pair{kTrainColour, "train"}, std::pair{kValColour, "validation"}}) {
    line(svg, x, y - 4, x + 24, y - 4, colour, 2);
    text(svg, x + 30, y, "start", name);
    x += 110;
  }
  if (!best) return;
  ring(svg, x + 12, y - 4);
  text(svg, x + 24, y, "start", "best (epoch " + std::to_string(best->epoch) + ")");
}

}  // namespace

std::string training_curves_svg(const std::vector<EpochRecord>& records, const std::string& title) {
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + format("%.0f", kWidth) +
                    "\" height=\"" + format("%.0f", kHeight) + "\" viewBox=\"0 0 " + format("%.0f", kWidth) + " " +
                    format("%.0f", kHeight) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  const std::string escaped = xml_escape(title);
  svg += "<title>" + escaped + "</title>\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  text(svg, kWidth / 2, 28, "middle", escaped, " font-size=\"16\" font-weight=\"bold\"");
  if (records.empty()) {
    text(svg, kWidth / 2, kHeight / 2, "middle", "no epochs yet", " fill=\"#777\"");
    return svg + "</svg>\n";
  }

  for (std::size_t i = 1; i < records.size(); ++i)
    GLER_CHECK(records[i].epoch > records[i - 1].epoch,
               "training curves: epoch " << records[i].epoch << " follows epoch " << records[i - 1].epoch);
  const Axis x = epoch_axis(records.front().epoch, records.back().epoch);
  const double top = 64, height = kHeight - top - 90, width = 310;
  const Panel loss{{60, top, width, height}, "loss", x, loss_axis(records), 1.0, "%.4g"};
  const Panel accuracy{{kWidth - 30 - width, top, width, height}, "accuracy", x, value_axis(0, 100), 100.0, "%.0f%%"};
  for (const Panel* p : {&loss, &accuracy}) draw_frame(svg, *p);
  draw_series(svg, loss, records, &EpochRecord::train_loss, kTrainColour);
  draw_series(svg, loss, records, &EpochRecord::val_loss, kValColour);
  draw_series(svg, accuracy, records, &EpochRecord::train_accuracy, kTrainColour);
  draw_series(svg, accuracy, records, &EpochRecord::val_accuracy, kValColour);

  const EpochRecord* best = nullptr;
  for (const EpochRecord& r : records)
    if (r.best && std::isfinite(r.val_accuracy)) best = &r;
  if (best) {
    const double bx = accuracy.px(best->epoch), by = accuracy.py(best->val_accuracy);
    ring(svg, bx, by);
    // Above the ring, or below it when the ring is near the top of the panel.
    text(svg, bx, by < top + 20 ? by + 20 : by - 10, "middle", "best");
  }
  draw_legend(svg, best);
  return svg + "</svg>\n";
}

void write_training_curves(const std::filesystem::path& svg, const std::vector<EpochRecord>& records,
                           const std::string& title) {
  io::write_text_atomic(svg, training_curves_svg(records, title));
}

}  // namespace gler::train
