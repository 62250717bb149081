// decode_image against Pillow 9.4 (Debian's python3-pil, same libjpeg-turbo): the bundled photos
// and small files of every supported kind written by Pillow must decode to exactly
// np.asarray(Image.open(f)) (or its convert('RGB'/'RGBA') where image.h documents one), and the
// EXIF orientations to exactly ImageOps.exif_transpose.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "io/image.h"
#include "tests/io/image_testing.h"
#include "tests/support/torch_ref.h"

using namespace gler;

TEST_CASE("the bundled JPEG photos decode exactly as Pillow's Image.open") {
  std::vector<std::string> paths;
  for (const char* name : {"ipazc_ivan.jpg", "solvay_1927_gray.jpg", "ipazc_no-faces.jpg"})
    paths.push_back(test::source_path(std::string("data/photos/") + name));
  const std::string shared = test::shared_path("data/photos");
  if (std::filesystem::is_directory(shared)) {
    for (const auto& entry : std::filesystem::directory_iterator(shared))
      if (entry.path().extension() == ".jpg") paths.push_back(entry.path().string());
  } else {
    MESSAGE("skipped: " << shared << " not found");
  }
  test::TorchRef ref;
  std::string code = "from PIL import Image\nfor i, p in enumerate([";
  for (const auto& p : paths) code += "'" + p + "',";
  code += "]):\n    save(f'img{i}', np.asarray(Image.open(p)))\n";
  ref.run(code);
  for (std::size_t i = 0; i < paths.size(); ++i) {
    CAPTURE(paths[i]);
    test::check_same_image(io::read_image(paths[i]), test::tensor_image(ref.get("img" + std::to_string(i))));
  }
}

TEST_CASE("files written by Pillow decode as Pillow reads them") {
  // name -> how Pillow writes it from a random image, and what decode_image must equal.
  const std::string cases = R"PY(
rng = np.random.default_rng(7)
def rnd(mode, w=23, h=17):
    n = {'L': 1, 'RGB': 3, 'RGBA': 4, 'LA': 2, 'CMYK': 4}[mode]
    a = rng.integers(0, 256, (h, w, n), dtype=np.uint8)
    return Image.fromarray(a[:, :, 0] if n == 1 else a, mode)
def palette(transparency=None):
    im = rnd('RGB').quantize(37)
    if transparency is not None:
        im.info['transparency'] = transparency
    return im
plain = lambda f: np.asarray(Image.open(f))
as_rgb = lambda f: np.asarray(Image.open(f).convert('RGB'))
as_rgba = lambda f: np.asarray(Image.open(f).convert('RGBA'))
def as_rgba_clear(f):  # transparent pixels as stb gives them, (0, 0, 0, 0)
    a = as_rgba(f).copy()
    a[a[:, :, 3] == 0] = 0
    return a
high_byte = lambda f: (np.asarray(Image.open(f)).astype(np.uint16) >> 8).astype(np.uint8)
i16 = Image.fromarray(rng.integers(0, 65536, (9, 14), dtype=np.uint16).astype('<u2'), 'I;16')
cases = {
    'rgb.jpg': (lambda f: rnd('RGB').save(f, quality=90), plain),
    'grey.jpg': (lambda f: rnd('L').save(f), plain),
    'cmyk.jpg': (lambda f: rnd('CMYK').save(f), as_rgb),
    'progressive.jpg': (lambda f: rnd('RGB', 40, 33).save(f, progressive=True), plain),
    'progressive_grey.jpg': (lambda f: rnd('L', 40, 33).save(f, progressive=True), plain),
    'subsampling444.jpg': (lambda f: rnd('RGB').save(f, subsampling=0), plain),
    'subsampling422_odd.jpg': (lambda f: rnd('RGB', 31, 9).save(f, subsampling=1), plain),
    'optimized_1x1.jpg': (lambda f: rnd('RGB', 1, 1).save(f, optimize=True), plain),
    'grey.png': (lambda f: rnd('L').save(f), plain),
    'rgb.png': (lambda f: rnd('RGB').save(f), plain),
    'rgba.png': (lambda f: rnd('RGBA').save(f), plain),
    'grey_alpha.png': (lambda f: rnd('LA').save(f), as_rgba),
    'grey_trns.png': (lambda f: rnd('L').save(f, transparency=77), as_rgba),
    'rgb_trns.png': (lambda f: Image.fromarray(rng.integers(0, 2, (9, 8, 3), dtype=np.uint8) * 255).save(f, transparency=(255, 0, 255)), as_rgba),
    'palette.png': (lambda f: palette().save(f), as_rgb),
    'palette_trns.png': (lambda f: palette(5).save(f), as_rgba),
    'grey16.png': (lambda f: i16.save(f), high_byte),
    'rgb.bmp': (lambda f: rnd('RGB').save(f), plain),
    'grey.bmp': (lambda f: rnd('L').save(f), as_rgb),
    'palette.bmp': (lambda f: palette().save(f), as_rgb),
    'palette.gif': (lambda f: palette().save(f), as_rgb),
    'palette_trns.gif': (lambda f: palette(5).save(f, transparency=5), as_rgba_clear),
    'rgbx32.bmp': (lambda f: rnd('RGBA').save(f), plain),
    'rgb.tga': (lambda f: rnd('RGB').save(f), plain),
    'rgba.tga': (lambda f: rnd('RGBA').save(f), plain),
    'grey.tga': (lambda f: rnd('L').save(f), plain),
    'rgb_rle.tga': (lambda f: rnd('RGB').save(f, compression='tga_rle'), plain),
}
for name, (write, expected) in cases.items():
    f = os.path.join(_DIR, name)
    write(f)
    save(name, expected(f))
)PY";
  test::TorchRef ref;
  ref.run("from PIL import Image\n" + cases);
  for (const std::string name : {"rgb.jpg", "grey.jpg", "cmyk.jpg", "progressive.jpg", "progressive_grey.jpg",
                           "subsampling444.jpg", "subsampling422_odd.jpg", "optimized_1x1.jpg", "grey.png",
                           "rgb.png", "rgba.png", "grey_alpha.png", "grey_trns.png", "rgb_trns.png", "palette.png", "palette_trns.png",
                           "grey16.png", "rgb.bmp", "grey.bmp", "palette.bmp", "palette.gif", "palette_trns.gif", "rgbx32.bmp", "rgb.tga",
                           "rgba.tga", "grey.tga", "rgb_rle.tga"}) {
    CAPTURE(name);
    test::check_same_image(io::read_image(ref.dir() + "/" + name), test::tensor_image(ref.get(name)));
  }
}

TEST_CASE("EXIF orientation: ignored by default, applied as ImageOps.exif_transpose with exif_rotate") {
  test::TorchRef ref;
  ref.run(R"PY(
from PIL import Image, ImageOps
rng = np.random.default_rng(3)
im = Image.fromarray(rng.integers(0, 256, (11, 19, 3), dtype=np.uint8))
for o in range(1, 9):
    exif = Image.Exif()
    exif[0x0112] = o
    im.save(os.path.join(_DIR, f'o{o}.jpg'), exif=exif.tobytes())
# Big-endian ("MM") TIFF, orientation 6, written by hand: Pillow's writer only makes "II".
mm = b'Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00'
im.save(os.path.join(_DIR, 'o6_mm.jpg'), exif=mm)
for name in [f'o{o}' for o in range(1, 9)] + ['o6_mm']:
    f = os.path.join(_DIR, name + '.jpg')
    save(name + '.plain', np.asarray(Image.open(f)))
    save(name + '.rotated', np.asarray(ImageOps.exif_transpose(Image.open(f))))
)PY");
  io::DecodeOptions rotate;
  rotate.exif_rotate = true;
  for (const std::string name : {"o1", "o2", "o3", "o4", "o5", "o6", "o7", "o8", "o6_mm"}) {
    CAPTURE(name);
    const std::string path = ref.dir() + "/" + name + ".jpg";
    test::check_same_image(io::read_image(path), test::tensor_image(ref.get(name + ".plain")));
    test::check_same_image(io::read_image(path, rotate), test::tensor_image(ref.get(name + ".rotated")));
  }
}
