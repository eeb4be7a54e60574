// Box-and-strip plots (data/report/box_plot.h): quartiles and Tukey whiskers against numpy's percentile (linear) on
// fixed values, one dot per finite value, "n/a" for an empty box, errors for mismatched series.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/report/box_plot.h"

using namespace seg;

TEST(BoxPlot, StatsMatchNumpyPercentilesAndTukeyWhiskers) {
  // numpy: np.percentile([1,2,3,4,5,6,7,8,9,100], [25,50,75]) = [3.25, 5.5, 7.75]; IQR 4.5 → upper fence 14.5
  const BoxStats b = box_stats({5, 1, 100, 3, 2, 4, 7, 6, 9, 8, NAN});
  EXPECT_EQ(b.n, 10);
  EXPECT_DOUBLE_EQ(b.q1, 3.25);
  EXPECT_DOUBLE_EQ(b.median, 5.5);
  EXPECT_DOUBLE_EQ(b.q3, 7.75);
  EXPECT_DOUBLE_EQ(b.whisker_lo, 1);
  EXPECT_DOUBLE_EQ(b.whisker_hi, 9);  // 100 is an outlier (still drawn as a dot)
  const BoxStats one = box_stats({0.7});
  EXPECT_EQ(one.n, 1);
  EXPECT_DOUBLE_EQ(one.q1, 0.7);
  EXPECT_DOUBLE_EQ(one.q3, 0.7);
  EXPECT_EQ(box_stats({NAN, INFINITY}).n, 0);
}

TEST(BoxPlot, WritesOneDotPerValueAndNaForEmptyBoxes) {
  const std::string path = (std::filesystem::temp_directory_path() / "seg_box_plot_test.svg").string();
  write_box_plot_svg(path, "Test Dice <per patient>", "Dice", {"RV", "Myo", "LV"},
                     {{"cross entropy", "#1f77b4", {{0.9, 0.8, 0.85}, {0.7, 0.75}, {0.95}}},
                      {"descriptors", "#d62728", {{0.6, NAN}, {}, {0.8, 0.82, 0.7, 0.9}}}});
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string svg = ss.str();
  size_t dots = 0, pos = 0;
  while ((pos = svg.find("<circle", pos)) != std::string::npos) ++dots, ++pos;
  EXPECT_EQ(dots, 3u + 2u + 1u + 1u + 4u);  // NaN skipped
  EXPECT_NE(svg.find("n/a"), std::string::npos);
  EXPECT_NE(svg.find("&lt;per patient&gt;"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  std::filesystem::remove(path);
  EXPECT_THROW(write_box_plot_svg(path, "t", "y", {"a", "b"}, {{"s", "#000", {{1.0}}}}), std::invalid_argument);
  EXPECT_THROW(write_box_plot_svg(path, "t", "y", {}, {}), std::invalid_argument);
}
