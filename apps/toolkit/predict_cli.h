// `segtool predict MODEL INPUT... -o OUT_DIR` (and `-i FOLDER`): the command-line face of predict.h.
// Key decisions: the label map is written in the input's format on the input's grid — a NIfTI input's header is
// copied (qform and sform as they were, data/formats/nifti_like.h); MetaImage and NRRD keep origin, spacing and
// direction; a DICOM series gets a NIfTI (.nii.gz) with the series' geometry (no DICOM-SEG writer); PNG and JPEG
// give PNG (a lossy JPEG would corrupt label values). Cases are grouped nnU-Net's way (CASE_0000, CASE_0001, ... are
// the modalities of CASE). A bad case is reported with its files and, with --keep-going, the batch goes on;
// OUT_DIR/predict.json records the model card and every case's inputs, output, orientation handling and error.
#pragma once

namespace seg::cli {
int predict_command(int argc, char** argv);  // argv[0] = "predict"
}  // namespace seg::cli
