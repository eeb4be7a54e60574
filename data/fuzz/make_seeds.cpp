// Writes the fuzzers' seed corpus with the project's own writers: small valid files of several datatypes, layouts
// and encodings, so mutations start from inputs that reach deep into each parser.
#include <cstdio>
#include <filesystem>
#include <string>

#include "data/formats/image_io.h"
#include "data/formats/metaimage.h"
#include "data/formats/nifti.h"
#include "data/formats/nrrd.h"
#include "data/formats/png_io.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds OUTDIR\n");
    return 2;
  }
  namespace fs = std::filesystem;
  const fs::path out = argv[1];
  for (const char* sub : {"nifti", "metaimage", "nrrd", "png"}) fs::create_directories(out / sub);
  int k = 0;
  for (const char* dt : {"uint8", "int16", "float32", "float64"}) {
    seg::Volume v = seg::Volume::make({3, 2, 2}, {0.5, 0.75, 2.0});
    for (size_t i = 0; i < v.data.size(); ++i) v.data[i] = static_cast<float>(i * 7 % 50);
    v.datatype = dt;
    v.affine[0][3] = -4.5;
    const std::string n = std::to_string(k++);
    seg::write_nifti((out / "nifti" / (n + ".nii")).string(), v);
    seg::write_nifti((out / "nifti" / (n + ".nii.gz")).string(), v);
    seg::write_metaimage((out / "metaimage" / (n + "z.mha")).string(), v, true);
    seg::write_metaimage((out / "metaimage" / (n + ".mha")).string(), v, false);
    seg::write_nrrd((out / "nrrd" / (n + "z.nrrd")).string(), v, true);
    seg::write_nrrd((out / "nrrd" / (n + ".nrrd")).string(), v, false);
  }
  seg::Volume rgb = seg::Volume::make({4, 3, 1});
  rgb.channels = 3;
  rgb.data.assign(36, 0.f);
  for (size_t i = 0; i < rgb.data.size(); ++i) rgb.data[i] = static_cast<float>(i * 9 % 256);
  rgb.datatype = "uint8";
  seg::write_png((out / "png" / "rgb.png").string(), rgb);
  seg::write_nifti((out / "nifti" / "rgb4d.nii").string(), rgb);
  seg::Volume g16 = seg::Volume::make({5, 4, 1}, {1, 1, 1}, 40000.f);
  g16.datatype = "uint16";
  seg::write_png((out / "png" / "g16.png").string(), g16);
  g16.datatype = "uint8";
  g16.data.assign(20, 7.f);
  seg::write_png((out / "png" / "g8.png").string(), g16);
  return 0;
}
