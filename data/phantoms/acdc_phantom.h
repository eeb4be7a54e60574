// An ACDC-like short-axis cine MRI phantom: end-diastolic and end-systolic frames with ACDC's labels (1 right
// ventricle, 2 left-ventricular myocardium, 3 left-ventricular cavity), written in ACDC's layout with Info.cfg.
// Anatomy in millimetres per slice from base (slice 0) to apex: an LV cavity whose radius shrinks towards the apex
// (cap of myocardium only at the apex), a myocardial ring (thicker at ES), an RV crescent wrapped anterolaterally
// that ends before the apex, papillary muscles inside the cavity (labelled LV as ACDC does), bright blood (SSFP),
// dark lungs, a thorax with fat; smooth per-patient shape deformation, a multiplicative coil bias field, Rician noise.
// The pathology group drawn per patient (NOR, MINF, DCM, HCM, RV) changes sizes, wall thickness and contraction.
// The LV cavity stays within paper 1's size bounds [97.9, 1722] px at 256² (capped when dilated, closed at the apex).
// Key decision: geometry like ACDC's (1.37–1.68 mm in-plane, 5–10 mm slices, 8–12 slices) and physical coordinates,
// so `nx` smaller than native keeps the field of view.
#pragma once
#include <cstdint>
#include <string>
#include <utility>

#include "data/volume.h"

namespace seg {

struct AcdcPhantomOptions {
  int64_t nx = 0;            // in-plane grid (square); 0: the patient's native grid (about 216–256)
  double noise_sigma = 9;    // Rician sigma on a ~0–400 intensity scale
};

struct AcdcPatientInfo {
  int ed_frame = 1, es_frame = 12, n_frames = 30;
  std::string group;         // NOR, MINF, DCM, HCM, RV
  double height_cm = 170, weight_kg = 70;
};

AcdcPatientInfo acdc_patient_info(uint64_t seed, int patient);
// (image, labels) of patient `patient`, end-systole when `es`, with spacing and affine set.
std::pair<Volume, Volume> make_acdc_frame(uint64_t seed, int patient, bool es, const AcdcPhantomOptions& opt = {});
// DIR/training/patientXXX/{patientXXX_frameYY.nii.gz, patientXXX_frameYY_gt.nii.gz (ED and ES), Info.cfg}, XXX from 001.
void write_acdc_phantom(const std::string& dir, int n_patients, uint64_t seed, const AcdcPhantomOptions& opt = {});

}  // namespace seg
