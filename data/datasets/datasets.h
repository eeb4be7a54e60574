// The official folder layouts of the data sets the apps train on, one loader for all, and a seeded patient split.
// Key decisions: listing is strict (a wrong or incomplete folder is an error that lists what was expected and what was
// found), and loading checks that every image and its label map share dims, spacing and affine within a tolerance,
// naming both files otherwise: silent misalignment is the failure users report most in this field.
//
// Layouts (DIR is what the user passes):
//   segthor      DIR[/train]/Patient_XX/{Patient_XX,GT}.nii.gz          labels 1 esophagus 2 heart 3 trachea 4 aorta
//   acdc         DIR[/training|/database/training]/patientXXX/patientXXX_frameYY[_gt].nii.gz + Info.cfg
//                one case per annotated frame (ED and ES), patient = patientXXX; labels 1 RV 2 myocardium 3 LV
//   brats19      DIR/{HGG,LGG}/<case>/<case>_{flair,t1,t1ce,t2,seg}.nii.gz  images in that order; labels 1, 2, 4
//   kits19       DIR[/data]/case_XXXXX/{imaging,segmentation}.nii.gz    labels 1 kidney 2 tumour
//   promise12    DIR[/*]/CaseXX.mhd + CaseXX_segmentation.mhd           label 1 prostate
//   jsrt         DIR[/images]/<ID>.IMG with DIR/masks/<ID>.png (label map 0 bg 1 lung 2 heart 3 clavicle) or SCR's
//                per-structure masks {left lung,right lung,heart,left clavicle,right clavicle}/<ID>.gif|png, either
//                as SCR ships them (DIR/scratch/fold1|fold2/masks/..., GIF) or under DIR/masks/; composed in that
//                order, later structures win, into the classes LoadOptions::jsrt asks for (default 1 lung, 2 heart,
//                3 clavicle; paper 2: 1 right lung, 2 left lung, 3 heart); masks at half resolution (SCR's 1024²)
//                halve the image to match
//   images_masks DIR/images/<stem>.{png,jpg,jpeg} + DIR/masks/<stem>[_mask|-mask|_segmentation].{png,jpg,jpeg}
//                grey PNG masks with values <= 20 are label ids; other masks (0/255, lossy JPEG) are thresholded >127;
//                images/ and masks/ match in any letter case (ORIGA copies ship Images/ and Masks/ with ids 0/1 disc/2 cup)
//   nnunet       DIR/dataset.json + imagesTr/<case>_XXXX<ending> + labelsTr/<case><ending> (v1 "modality" or v2
//                "channel_names"; "file_ending" defaults to .nii.gz)
//   msd          DIR/dataset.json ("training": [{"image", "label"}]) + imagesTr/ + labelsTr/ (Medical Segmentation
//                Decathlon; one 4-D image per case for multi-modal tasks, e.g. Task01_BrainTumour's 4 MRI channels)
// Cases are sorted by id. A case whose data set ships no label for it has label_path "".
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "data/formats/jsrt.h"
#include "data/volume.h"

namespace seg {

struct Case {
  std::string id;                        // e.g. "Patient_01", "patient001_frame01"
  std::vector<std::string> image_paths;  // one per modality / channel
  std::string label_path;                // "" when absent; a folder for SCR per-structure masks
  std::string patient;                   // split key: several cases of one patient stay in one split
  std::string dataset;                   // canonical layout name (decides how labels are decoded)
  // The label set its label map must use, value -> structure (0 = background included): the data set's
  // (dataset_labels) or, for nnunet and msd, dataset.json's "labels". Empty: any integer >= 0.
  std::map<int, std::string> labels = {};
};

// Canonical layout names, in the order of the table above.
std::vector<std::string> dataset_names();
// The label set of a canonical data set or alias: segthor 0-4, acdc 0-3, brats19 0/1/2/4, kits19 0-2, promise12 0-1,
// jsrt 0-3 (after composition); empty for images_masks, nnunet and msd (their sets come from the files). Unknown name:
// an error listing the known ones.
std::map<int, std::string> dataset_labels(const std::string& dataset);
// "0 background, 1 esophagus, 2 heart" (for messages).
std::string label_set_text(const std::map<int, std::string>& labels);
// Lists the cases of `dataset` (a canonical name or an alias: brats, kits, polyp, fundus, 2d) found under `dir`.
std::vector<Case> list_cases(const std::string& dataset, const std::string& dir);
// ACDC's Info.cfg as key -> value ("ED", "ES", "Group", "Height", "NbFrame", "Weight").
std::map<std::string, std::string> read_acdc_info(const std::string& path);

struct GeometryTolerance {
  double spacing_rel = 1e-3;  // relative difference allowed per spacing
  double affine_mm = 1e-2;    // absolute difference allowed per affine entry (mm)
};

// Throws "<a_name> and <b_name> disagree in dims|spacing|affine: ..." when the grids differ.
void check_same_grid(const Volume& a, const std::string& a_name, const Volume& b, const std::string& b_name,
                     const GeometryTolerance& tol = {});
// Throws when a label map holds NaN/inf, a non-integer, a negative value, or (when `allowed` is not empty) a value
// outside `allowed`; the message names the file, the value and the voxel (x, y, z) where it first occurs, and the
// allowed set.
void check_label_values(const Volume& label, const std::string& name, const std::map<int, std::string>& allowed = {});
// The labels of `labels` (background 0 left out) that have no voxel in `label`.
std::vector<int> absent_labels(const Volume& label, const std::map<int, std::string>& labels);

struct LoadedCase {
  Case info;
  std::vector<Volume> images;  // in image_paths order
  Volume label;                // integer ids; empty data when the case has no label
  bool has_label = false;
  // Labels of info.labels (background left out) with no voxel in this case: load_case reports them with io::warn
  // ("<label file>: case <id> has no voxel of label 2 (heart)"); an app whose target class is among them decides.
  std::vector<int> absent_labels;
};
LoadedCase load_case(const Case& c, const GeometryTolerance& tol = {});

struct LoadOptions {
  GeometryTolerance tol{};
  // JSRT's label classes. RightLeftLungHeart needs SCR's per-structure masks: a label-map PNG merges the lungs, so
  // loading one with it is an error naming the file.
  JsrtClasses jsrt = JsrtClasses::LungHeartClavicle;
};
LoadedCase load_case(const Case& c, const LoadOptions& opt);

// Splits by patient with a seeded shuffle that is identical on every platform (no std::shuffle).
// fractions: positive, summing to 1; each non-empty part gets at least one patient when there are enough.
std::vector<std::vector<Case>> split_by_patient(const std::vector<Case>& cases, const std::vector<double>& fractions,
                                                uint64_t seed);
// counts: patients per part, sum <= number of patients (the remaining patients are left out).
std::vector<std::vector<Case>> split_by_patient_counts(const std::vector<Case>& cases,
                                                       const std::vector<int64_t>& counts, uint64_t seed);

}  // namespace seg
