#include "apps/cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace gler::cli {

namespace {
constexpr int kBarWidth = 30;
// Redraw at most this often: a terminal write per image would cost more than small images take.
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);
}  // namespace

bool progress_wanted(bool force_on, bool force_off) {
  if (force_off) return false;
  return force_on || ::isatty(::fileno(stderr)) == 1;
}

std::string format_duration(double seconds) {
  char buf[32];
  if (!(seconds >= 0) || std::isinf(seconds)) return "?";
  if (seconds < 10) {
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
    return buf;
  }
  const long long s = std::llround(seconds);
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%llds", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
  return buf;
}

ProgressBar::ProgressBar(std::size_t total, std::string unit, std::string rate_unit, std::vector<std::string> counters,
                         bool draw, std::ostream& out)
    : total_(total),
      unit_(std::move(unit)),
      rate_unit_(std::move(rate_unit)),
      names_(std::move(counters)),
      counts_(names_.size(), 0),
      draw_(draw),
      out_(out) {
  std::lock_guard lock(mutex_);
  draw_locked(true);
}

void ProgressBar::advance(const std::vector<long long>& deltas) {
  std::lock_guard lock(mutex_);
  ++done_;
  for (std::size_t i = 0; i < deltas.size() && i < counts_.size(); ++i) counts_[i] += deltas[i];
  draw_locked(done_ == total_);
}

void ProgressBar::advance_by(std::size_t items, std::string note) {
  std::lock_guard lock(mutex_);
  done_ += items;
  note_ = std::move(note);
  draw_locked(done_ >= total_);
}

void ProgressBar::print_line(const std::string& line) {
  std::lock_guard lock(mutex_);
  clear_locked();
  out_ << line << '\n';
  draw_locked(true);
}

void ProgressBar::finish() {
  std::lock_guard lock(mutex_);
  clear_locked();
  draw_ = false;
}

std::size_t ProgressBar::done() const {
  std::lock_guard lock(mutex_);
  return done_;
}

double ProgressBar::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressBar::clear_locked() {
  if (drawn_width_ == 0) return;
  out_ << '\r' << std::string(drawn_width_, ' ') << '\r';
  out_.flush();
  drawn_width_ = 0;
}

void ProgressBar::draw_locked(bool force) {
  if (!draw_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;

  const double fraction = total_ == 0 ? 1.0 : static_cast<double>(done_) / static_cast<double>(total_);
  const int filled = static_cast<int>(fraction * kBarWidth);
  std::ostringstream line;
  line << '[' << std::string(filled, '=');
  if (filled < kBarWidth) line << '>' << std::string(kBarWidth - filled - 1, ' ');
  line << "] " << done_ << '/' << total_ << ' ' << unit_;
  const double elapsed = elapsed_s();
  if (done_ > 0 && elapsed > 0) {
    const double rate = static_cast<double>(done_) / elapsed;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", rate);
    const double left = done_ < total_ ? static_cast<double>(total_ - done_) : 0.0;
    line << "  " << buf << ' ' << rate_unit_ << "  ETA " << format_duration(left / rate);
  }
  for (std::size_t i = 0; i < names_.size(); ++i) line << "  " << names_[i] << ' ' << counts_[i];
  if (!note_.empty()) line << "  " << note_;
  const std::string text = line.str();
  // Pad over the remains of a longer previous line instead of clearing first (no flicker).
  out_ << '\r' << text;
  if (text.size() < drawn_width_) out_ << std::string(drawn_width_ - text.size(), ' ');
  out_.flush();
  drawn_width_ = std::max(drawn_width_, text.size());
}

}  // namespace gler::cli
