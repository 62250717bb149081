#include "models/faces/face_batch.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "core/cpu/threads.h"
#include "core/error.h"

namespace gler::models::faces {

namespace {

FaceJobResult run_one(const FaceJob& job, const MtcnnDetector& detector, const FaceOutputSettings& settings) {
  FaceJobResult result;
  if (!job.conflict.empty()) {
    result.error = job.conflict;
    return result;
  }
  try {
    const FaceRecord record = extract_faces(job.image, detector, settings.extraction);
    write_face_outputs(record, job.outputs, settings);
    result.faces = record.faces.size();
  } catch (const std::exception& e) {
    result.error = e.what();
    try {
      write_face_error(job.image, result.error, job.outputs, settings);
    } catch (const std::exception& again) {
      result.error += std::string("; its error JSON could not be written either: ") + again.what();
    }
  }
  return result;
}

}  // namespace

void run_face_jobs(const std::vector<FaceJob>& jobs, const MtcnnDetector& detector, const FaceOutputSettings& settings,
                   int workers, const std::function<void(const FaceJobResult&)>& on_done) {
  GLER_CHECK(workers >= 1, "the worker count must be at least 1, got " << workers);
  const std::size_t threads = std::min<std::size_t>(static_cast<std::size_t>(workers), jobs.size());
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex report;
  std::exception_ptr failure;
  auto work = [&] {
    for (std::size_t i; !stop && (i = next++) < jobs.size();) {
      FaceJobResult result = run_one(jobs[i], detector, settings);
      result.index = i;
      std::lock_guard lock(report);
      if (stop) return;
      try {
        on_done(result);
      } catch (...) {
        failure = std::current_exception();
        stop = true;
      }
    }
  };
  if (threads <= 1) {
    work();  // on the calling thread, whose CPU thread setting stays as it is
  } else {
    std::vector<std::jthread> pool;
    for (std::size_t t = 0; t < threads; ++t)
      pool.emplace_back([&] {
        set_cpu_threads(1);  // OpenMP's thread count is per thread: each worker sets its own
        work();
      });
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace gler::models::faces
