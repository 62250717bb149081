// A one-line progress bar for the batch tools, drawn on stderr:
//   [=====>    ] 120/3011 images  14.2 img/s  ETA 3m25s  faces 842  errors 1
// Safe to use from several threads. Other stderr lines go through print_line, which clears the bar
// first and redraws it after, so they are never garbled.
#pragma once
#include <chrono>
#include <cstddef>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

namespace gler::cli {

// Whether to draw: "--progress" forces it, "--no-progress" turns it off, otherwise only when
// stderr is a terminal.
bool progress_wanted(bool force_on, bool force_off);

// "3m25s", "1h02m", "42s", "0.5s".
std::string format_duration(double seconds);

class ProgressBar {
 public:
  // total: items to do; unit: "images"; rate_unit: "img/s"; counters: named totals shown after the
  // ETA, in this order. With draw = false nothing is drawn, but print_line still prints.
  ProgressBar(std::size_t total, std::string unit, std::string rate_unit, std::vector<std::string> counters, bool draw,
              std::ostream& out);

  // One more item done; deltas add to the counters (fewer deltas than counters is fine).
  void advance(const std::vector<long long>& deltas = {});
  // `items` more done at once (a batch), and `note` shown after the counters (gler_train: the
  // running loss and accuracy).
  void advance_by(std::size_t items, std::string note);
  // Prints `line` (no newline needed) on a line of its own.
  void print_line(const std::string& line);
  // Clears the bar for good; later calls draw nothing.
  void finish();

  std::size_t done() const;
  double elapsed_s() const;

 private:
  void draw_locked(bool force);
  void clear_locked();

  const std::size_t total_;
  const std::string unit_, rate_unit_;
  const std::vector<std::string> names_;
  std::vector<long long> counts_;
  std::string note_;
  bool draw_;
  std::ostream& out_;
  mutable std::mutex mutex_;
  std::size_t done_ = 0;
  std::size_t drawn_width_ = 0;  // characters of the bar now on screen
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace gler::cli
