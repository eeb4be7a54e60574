// Box-and-strip plots as standalone SVG files: the distribution of per-patient scores (paper 5's Fig 4, test Dice per
// class and method), written atomically.
// Key decisions: every patient is drawn as a dot (jittered deterministically across the box's width) over a box of the
// quartiles with the median and whiskers to the furthest point within 1.5 IQR (Tukey, as matplotlib's boxplot), so a
// small test set is shown as it is rather than summarised away; quartiles use linear interpolation (numpy's default).
// Groups (e.g. classes) sit side by side with one box per series (e.g. method) each, coloured per series.
#pragma once
#include <string>
#include <vector>

namespace seg {

struct BoxSeries {
  std::string label;                          // legend entry (e.g. "cross entropy")
  std::string color = "#1f77b4";
  std::vector<std::vector<double>> values;    // one list per group; non-finite values are skipped
};

struct BoxStats {
  double q1 = 0, median = 0, q3 = 0, whisker_lo = 0, whisker_hi = 0;
  int n = 0;
};
// Quartiles (linear interpolation) and Tukey whiskers of the finite values; n = 0 when there is none.
BoxStats box_stats(std::vector<double> values);

void write_box_plot_svg(const std::string& path, const std::string& title, const std::string& ylabel,
                        const std::vector<std::string>& groups, const std::vector<BoxSeries>& series, double ymin = 0.0,
                        double ymax = 1.0);

}  // namespace seg
