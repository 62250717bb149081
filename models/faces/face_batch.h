// Running the planned face jobs (face_layout.h) on worker threads: each image is extracted and its
// outputs written as soon as it is done; a failure is caught per image, recorded in its JSON and
// reported, and the others go on.
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "models/faces/face_layout.h"
#include "models/faces/face_outputs.h"
#include "models/faces/mtcnn_detector.h"

namespace gler::models::faces {

struct FaceJobResult {
  std::size_t index = 0;  // into the jobs
  std::size_t faces = 0;
  std::string error;      // empty: the outputs are written
};

// Calls on_done once per job, in completion order, never from two threads at once.
// workers >= 1; with more than one, each worker runs the CPU kernels on one thread (the images
// are the parallelism, and N workers x all cores would oversubscribe the CPU). An exception from
// on_done stops the run and is rethrown here once the workers have finished.
void run_face_jobs(const std::vector<FaceJob>& jobs, const MtcnnDetector& detector, const FaceOutputSettings& settings,
                   int workers, const std::function<void(const FaceJobResult&)>& on_done);

}  // namespace gler::models::faces
