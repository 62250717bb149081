// The EmotiW 2018 GAF dataset as the seed's training scripts see it (SEED_SPEC §1): which images
// make up a split, in which order, with which labels, and what the model fed from them needs.
#pragma once
#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include "models/faces/face_outputs.h"
#include "models/gler/gler_model.h"

namespace gler::train {

// SEED_SPEC §1.3: train = the sorted class listings of emotiw/train; val = VAL (val_list); eval =
// EVAL (test_list); VAL and EVAL images lie in emotiw/val.
enum class Split { train, val, eval };
const char* split_name(Split split);  // "train" | "val" | "eval"

// Class index = label (SEED_SPEC §1.2): the folder names and the file-name prefixes.
inline constexpr std::array<const char*, 3> kClassFolders = {"Negative", "Neutral", "Positive"};
inline constexpr std::array<const char*, 3> kClassPrefixes = {"neg", "neu", "pos"};

struct DatasetOptions {
  // Holds emotiw/, val_list and test_list (pickled, or .txt) and the face cache trees
  // (FaceFeatures/, AlignedCroppedImages/, FaceJson/, FaceCoordinates/) as `gler_faces ROOT --out
  // ROOT` or gler_synth writes them.
  std::filesystem::path root;
  // SEED_SPEC §1.3 FullDataset: train = train ∪ VAL, val (the checkpoint-selection set) = EVAL.
  bool full_dataset = false;
  // What inputs to build (image, aligned faces, O-Net features; face size and normalisation,
  // max_faces, the seed's quirks). seed_compat also gives the seed's list filter.
  models::ModelInfo model;
  // The seed's training transform of the global arch, RandomResizedCrop(224) then
  // RandomHorizontalFlip (SEED_SPEC §2.1, augment.h). Off, and for every other arch (the seed
  // augments nothing else): Resize((224, 224)) as gler_infer.
  bool augment = false;
  // The seed's validation transform of the global arch trained with `augment`: Resize(256) then
  // CenterCrop(224) (augment.h) instead of Resize((224, 224)).
  bool center_crop = false;
  // For images whose face cache entry is missing: the MTCNN weights (empty: the bundled
  // data/mtcnn/mtcnn.safetensors, as gler_faces) and the settings it detects, aligns and writes
  // with (default: gler_faces' defaults: seed alignment, 20 px, JPEG crops, each face its own feature).
  std::filesystem::path mtcnn_weights;
  models::faces::FaceOutputSettings face_settings;
  // EmotiC pretraining (SEED_SPEC §5; emotic_dataset.h): root holds
  // emotic/{train,val}_annotations.npz (1-D arrays image, folder: unicode; valence: numbers) and the images they name, root/emotic/<folder>/<image>. list_split(train | val) then
  // gives the npz's entries in file order, labelled by the seed's valence bins (Split::eval is an
  // error), and prepare_example the seed's EmotiC transform (skimage Rescale(224), RandomCrop(224),
  // [0, 1] values, no normalisation, no flip, in training and validation alike; `augment` has no
  // effect) for the global arch only.
  bool emotic = false;
};

struct Example {
  std::string image;      // ROOT/emotiw/<split_dir>/<label_dir>/<file>
  int label = 0;          // 0 Negative, 1 Neutral, 2 Positive
  std::string split_dir;  // "train" | "val": the emotiw/ folder it lies in
  std::string label_dir;  // "Negative" | "Neutral" | "Positive"
  std::string stem;       // the file name up to its first '.', the face cache's name for it
};

// The examples of a split in the seed's order: train listings sorted by name byte by byte (Python's
// sorted on the seed's ASCII names), Negative then Neutral then Positive, each labelled by its
// folder; lists in their order, each entry's label and folder given by its prefix (neg_, neu_,
// pos_; an entry may carry a folder before a '/' and may lack ".jpg"), FullDataset's train the
// train listing then VAL. Default: every image file of a listing (io::has_image_extension) and
// every list entry. seed_compat: every listing entry, and the listings and VAL through the seed's
// filter (name_lists.h), EVAL unfiltered, as the seed has them (names the filter leaves that are no
// images are then skipped by the Loader). Throws for a missing class folder or list (naming it) and
// for a list entry without a class prefix.
std::vector<Example> list_split(const DatasetOptions& options, Split split);

}  // namespace gler::train
