// Writes the fuzzers' seed corpus with the project's own writers: small valid files of several datatypes, layouts
// and encodings, so mutations start from inputs that reach deep into each parser. The project writes neither JPEG nor
// DICOM, so those seeds come from libjpeg and DCMTK directly (a grey and an RGB JPEG; an uncompressed CT slice).
#include <dcmtk/dcmdata/dctk.h>
#include <jpeglib.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "data/formats/image_io.h"
#include "data/formats/metaimage.h"
#include "data/formats/nifti.h"
#include "data/formats/nrrd.h"
#include "data/formats/gif_io.h"
#include "data/formats/png_io.h"

namespace {

void write_jpeg(const std::string& path, int w, int h, int comps) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return;
  jpeg_compress_struct c{};
  jpeg_error_mgr err{};
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  jpeg_stdio_dest(&c, f);
  c.image_width = static_cast<JDIMENSION>(w), c.image_height = static_cast<JDIMENSION>(h);
  c.input_components = comps, c.in_color_space = comps == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 90, TRUE);
  jpeg_start_compress(&c, TRUE);
  std::vector<JSAMPLE> row(static_cast<size_t>(w * comps));
  while (c.next_scanline < c.image_height) {
    for (size_t i = 0; i < row.size(); ++i) row[i] = static_cast<JSAMPLE>((i * 13 + c.next_scanline * 29) % 256);
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::fclose(f);
}

void write_dicom(const std::string& path, bool signed_pixels) {
  DcmFileFormat ff;
  DcmDataset* ds = ff.getDataset();
  ds->putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
  ds->putAndInsertString(DCM_SeriesInstanceUID, "1.2.3");
  ds->putAndInsertUint16(DCM_Rows, 3);
  ds->putAndInsertUint16(DCM_Columns, 4);
  ds->putAndInsertUint16(DCM_BitsAllocated, 16);
  ds->putAndInsertUint16(DCM_BitsStored, 12);
  ds->putAndInsertUint16(DCM_HighBit, 11);
  ds->putAndInsertUint16(DCM_PixelRepresentation, signed_pixels ? 1 : 0);
  ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
  ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
  ds->putAndInsertString(DCM_ImageOrientationPatient, "0\\1\\0\\-1\\0\\0");
  ds->putAndInsertString(DCM_ImagePositionPatient, "10\\-20\\4");
  ds->putAndInsertString(DCM_PixelSpacing, "0.5\\0.75");
  ds->putAndInsertString(DCM_SliceThickness, "2");
  ds->putAndInsertString(DCM_RescaleSlope, "2");
  ds->putAndInsertString(DCM_RescaleIntercept, "-1024");
  std::vector<Uint16> px(12);
  for (int i = 0; i < 12; ++i) px[static_cast<size_t>(i)] = static_cast<Uint16>(100 + 37 * i);
  ds->putAndInsertUint16Array(DCM_PixelData, px.data(), 12);
  ff.saveFile(path.c_str(), signed_pixels ? EXS_LittleEndianImplicit : EXS_LittleEndianExplicit);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds OUTDIR\n");
    return 2;
  }
  namespace fs = std::filesystem;
  const fs::path out = argv[1];
  for (const char* sub : {"nifti", "metaimage", "nrrd", "png", "jpeg", "gif", "dicom"}) fs::create_directories(out / sub);
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
  std::vector<uint8_t> grey(7 * 5);
  for (size_t i = 0; i < grey.size(); ++i) grey[i] = static_cast<uint8_t>(i % 3 == 0 ? 255 : i * 7);
  seg::write_gif_grey((out / "gif" / "grey.gif").string(), 7, 5, grey);
  write_jpeg((out / "jpeg" / "grey.jpg").string(), 9, 7, 1);
  write_jpeg((out / "jpeg" / "rgb.jpg").string(), 8, 5, 3);
  write_dicom((out / "dicom" / "ct.dcm").string(), false);
  write_dicom((out / "dicom" / "ct_implicit.dcm").string(), true);
  return 0;
}
