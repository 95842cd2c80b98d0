/* The baseline for bench/facerecog: the loop a developer would write with
 * dlib alone (dlib/examples/dnn_face_recognition_ex.cpp), over the same
 * frames the element sees. Not product code: it exists to be compared with.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   bench-dlib-loop LANDMARKS.dat RESNET.dat ROUNDS FRAME.rgb...
 * Each FRAME.rgb: "W H\n" then W*H*3 bytes of RGB.
 */
#include "sxnet.hpp"

#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

using clock_type = std::chrono::steady_clock;

static double
ms_between (clock_type::time_point a, clock_type::time_point b)
{
  return std::chrono::duration<double, std::milli> (b - a).count ();
}

static dlib::matrix<dlib::rgb_pixel>
read_frame (const char *path)
{
  std::ifstream in (path, std::ios::binary);
  long w = 0, h = 0;
  in >> w >> h;
  in.get ();
  dlib::matrix<dlib::rgb_pixel> img (h, w);
  in.read (reinterpret_cast<char *> (&img (0, 0)), w * h * 3);
  if (!in)
    throw std::runtime_error (std::string ("cannot read ") + path);
  return img;
}

int
main (int argc, char **argv)
{
  if (argc < 5) {
    std::cerr << "usage: bench-dlib-loop LANDMARKS RESNET ROUNDS FRAME...\n";
    return 2;
  }
  dlib::frontal_face_detector detector = dlib::get_frontal_face_detector ();
  dlib::shape_predictor sp;
  dlib::deserialize (argv[1]) >> sp;
  sxnet::anet_type net;
  dlib::deserialize (argv[2]) >> net;
  int rounds = std::atoi (argv[3]);
  std::vector<dlib::matrix<dlib::rgb_pixel> > frames;
  for (int i = 4; i < argc; i++)
    frames.push_back (read_frame (argv[i]));

  double detect_ms = 0, align_ms = 0, describe_ms = 0;
  long faces = 0, analysed = 0;
  auto start = clock_type::now ();
  for (int r = 0; r < rounds; r++) {
    for (auto &img : frames) {
      auto t0 = clock_type::now ();
      std::vector<dlib::rectangle> dets = detector (img);
      auto t1 = clock_type::now ();
      std::vector<dlib::matrix<dlib::rgb_pixel> > chips;
      for (auto &d : dets) {
        auto shape = sp (img, d);
        dlib::matrix<dlib::rgb_pixel> chip;
        dlib::extract_image_chip (
            img, dlib::get_face_chip_details (shape, 150, 0.25), chip);
        chips.push_back (std::move (chip));
      }
      auto t2 = clock_type::now ();
      if (!chips.empty ()) {
        std::vector<dlib::matrix<float, 0, 1> > descriptors = net (chips);
        faces += (long)descriptors.size ();
      }
      auto t3 = clock_type::now ();
      detect_ms += ms_between (t0, t1);
      align_ms += ms_between (t1, t2);
      describe_ms += ms_between (t2, t3);
      analysed++;
    }
  }
  double total_ms = ms_between (start, clock_type::now ());
  std::printf ("dlib-loop frames=%ld faces=%ld total_ms=%.1f detect_ms=%.2f "
               "align_ms_per_face=%.2f describe_ms_per_face=%.2f "
               "faces_per_s=%.2f\n",
               analysed, faces, total_ms, detect_ms / analysed,
               faces ? align_ms / faces : 0.0,
               faces ? describe_ms / faces : 0.0, faces / (total_ms / 1000.0));
  return 0;
}
