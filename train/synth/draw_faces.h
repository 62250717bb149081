// The synthetic faces: a skin-toned head with two eyes, a nose and a mouth whose shape is the
// face's expression (smile: Positive, straight: Neutral, frown: Negative), with the box and the
// five landmarks MTCNN would report for it.
#pragma once
#include <array>

#include "io/draw.h"
#include "io/image.h"
#include "models/faces/face.h"
#include "train/synth/raster.h"
#include "train/synth/synth_random.h"

namespace gler::synth {

// In class order (SEED_SPEC §1.2): the expression of class c is Expression(c).
enum class Expression { frown = 0, straight = 1, smile = 2 };
const char* expression_name(Expression e);  // "frown", "straight", "smile"

// Everything that decides how one face looks. Lengths in pixels; feature positions in head
// coordinates (u across the face, towards larger x when upright; v down), as fractions of the radii.
struct FaceLook {
  Pose pose;                   // the head's centre and tilt
  double rx = 0, ry = 0;       // head radii, ry >= rx
  io::Rgb skin, feature_color, mouth_color;
  bool hair = false;
  io::Rgb hair_color;
  double eye_u = 0, eye_v = 0;  // eye centres at (±eye_u·rx, eye_v·ry), eye_v < 0
  double eye_rx = 0, eye_ry = 0;
  bool eye_whites = false;      // white of the eye around the dark iris
  bool brows = false;
  double nose_v = 0;            // nose tip at (0, nose_v·ry)
  double mouth_v = 0;           // mouth corners at (±mouth_u·rx, mouth_v·ry)
  double mouth_u = 0;
  double mouth_depth = 0;       // how far the middle of the mouth bends, in px (0 when straight)
  double mouth_width = 0;       // line width, px
  Expression expression = Expression::straight;
};

// A random face with a head `width` x `height` px (before its tilt; height >= width) centred at `centre`.
FaceLook random_face(SynthRandom& random, Vec2 centre, double width, double height, Expression expression);

// The rotated head's bounding box [x1, y1, x2, y2] (MTCNN's convention: x2/y2 inclusive).
std::array<double, 4> face_box(const FaceLook& face);
// The radius about the head's centre within which the face, hair included, paints: faces whose
// centres are farther apart than the sum of their reaches do not overlap.
double face_reach(const FaceLook& face);
double face_reach(double ry);  // ... of a face with head radius ry along v
// Left eye, right eye, nose tip, left and right mouth corner ("left" = smaller x), as float32
// like MTCNN's.
std::array<models::faces::Point, 5> face_landmarks(const FaceLook& face);

void draw_face(io::Image& image, const FaceLook& face);

}  // namespace gler::synth
