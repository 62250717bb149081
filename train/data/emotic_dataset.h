// EmotiC as the seed's pretraining script sees it (SEED_SPEC §5, GlobalCNN_DenseNet161_EmotiC_lr001.py):
// the annotation lists, the valence bins that are its labels, and its image transform (the
// seed's loading, skimage's Rescale(224), RandomCrop(224), no normalisation, no flip), giving the
// global arch's [3, 224, 224] input. DatasetOptions::emotic switches list_split and
// prepare_example over to these.
#pragma once
#include <cstdint>
#include <vector>

#include "core/init.h"
#include "io/image.h"
#include "train/data/emotiw_dataset.h"
#include "train/data/training_sample.h"

namespace gler::train {

// The class of an EmotiC valence as the seed bins it (SEED_SPEC §5): label = int(valence) − 1
// (int truncates toward zero), then < 4: 0 (valence 1–4), 4–6: 1 (5–7), 7–9: 2 (8–10). Only
// int(valence) in 1..10, EmotiC's scale, is taken: larger values the seed leaves unmapped, and
// smaller ones, NaN and infinities are no EmotiC valence; those throw (the message names the value).
int emotic_valence_class(double valence);

// With options.emotic: the entries of ROOT/emotic/train_annotations.npz (Split::train) or
// ROOT/emotic/val_annotations.npz (Split::val), in file order. The npz holds 1-D arrays `image`
// and `folder` (unicode, as numpy saves a str array) and `valence` (bool, integer or float32/64)
// of one length. Each Example: image = ROOT/emotic/<folder>/<image> (the seed's
// os.path.join(root_dir, folder, image) with root_dir = Dataset/emotic/; an absolute folder or
// image, which would make os.path.join drop the root, is refused, and so is an empty image
// name), label = emotic_valence_class(valence), split_dir "emotic", label_dir the label's
// kClassFolders name, stem the image name up to its first '.'. Throws, naming the file (and the
// entry), for a missing, truncated or malformed npz, a missing array, an object (pickled) or
// byte-string array, arrays of different lengths, an unusable valence or path; Split::eval and
// full_dataset are errors (the seed has neither for EmotiC).
std::vector<Example> list_emotic_split(const DatasetOptions& options, Split split);

// An HWC float32 image.
struct FloatImage {
  int height = 0, width = 0, channels = 0;
  std::vector<float> values;  // height * width * channels
  float at(int y, int x, int c) const {
    return values[(static_cast<std::size_t>(y) * width + x) * channels + c];
  }
};

// The seed's EmotiC.__getitem__ on np.asarray of the decoded image: when the first dimension
// (the height) is 2, row 0 alone (a W x C array, which the next step takes for a W-high,
// C-wide greyscale image; a 2-row greyscale image becomes 1-D there, which the seed cannot use:
// throws); a greyscale array replicated into 3 channels; RGBA its first 3; then each value
// divided by 255 in double and stored as float32. `decoded` is io::decode_image's (Pillow's
// decode, with palettes expanded to RGB(A): the seed would see palette indices there).
FloatImage emotic_float_image(const io::Image& decoded);

// Rescale(224)'s output size for a height x width image: the shorter side 224, the longer
// int(224·long/short) (Python's true division, truncated); rows are the longer side when
// height > width.
struct ImageSize {
  int height = 0, width = 0;
};
ImageSize emotic_rescale_size(int height, int width);

// skimage.transform.resize(image, (out_height, out_width)) with its defaults on a float32 image
// (skimage 0.19 with SciPy >= 1.6: order 1, mode 'reflect', clip, preserve_range False, which
// keeps float32 values; anti_aliasing when any side shrinks): a Gaussian pre-filter (SciPy's
// gaussian_filter: sigma = max(0, (in/out − 1) / 2) per axis, truncate 4, mode 'mirror', rows
// then columns, float32 between the passes), then ndimage.zoom(order=1, mode='mirror',
// grid_mode=True): output pixel k samples input coordinate (k + 0.5)·in/out − 0.5, bilinearly,
// then clipped to the input's value range. Only rows [top, top + rows) and columns
// [left, left + cols) of the result are computed (and filtered only where they need it).
FloatImage skimage_resize_window(const FloatImage& image, int out_height, int out_width, int top, int left, int rows, int cols);
inline FloatImage skimage_resize(const FloatImage& image, int out_height, int out_width) {
  return skimage_resize_window(image, out_height, out_width, 0, 0, out_height, out_width);
}

// RandomCrop(224) of a height x width image (the Rescale's size): top, then left, each
// uniform_below(gen, d − 224) (random_streams.h; the seed's np.random.randint(0, d − 224), whose
// bound is exclusive) where d > 224, else 0.
struct CropOffset {
  int top = 0, left = 0;
};
CropOffset draw_emotic_crop(int height, int width, Generator& gen);

// The seed's transform of `decoded`: emotic_float_image, Rescale(224), the crop at `crop`, HWC
// to CHW: [3, 224, 224] float32 written to dst. No normalisation and no flip.
void emotic_global_tensor(const io::Image& decoded, CropOffset crop, float* dst);

// prepare_example with options.emotic: decodes the image (a file that cannot be read or decoded,
// or that the seed's loading cannot use, gives `skipped`), draws the crop from
// Generator(augment_seed) (whether or not options.augment: the seed crops at random in training
// and validation alike) and fills sample.global. Throws unless options.model is the global arch
// (EmotiC has no face cache).
PreparedExample prepare_emotic_example(const Example& example, const DatasetOptions& options, std::uint64_t augment_seed);

}  // namespace gler::train
