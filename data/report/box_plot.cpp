// SVG box-and-strip plots (see box_plot.h).
#include "data/report/box_plot.h"

#include "data/formats/image_io.h"
#include "data/report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace seg {

namespace {

double quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t i = static_cast<size_t>(std::floor(pos));
  const double f = pos - static_cast<double>(i);
  return i + 1 < sorted.size() ? sorted[i] + f * (sorted[i + 1] - sorted[i]) : sorted[i];
}

}  // namespace

BoxStats box_stats(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  BoxStats b;
  b.n = static_cast<int>(v.size());
  if (v.empty()) return b;
  std::sort(v.begin(), v.end());
  b.q1 = quantile(v, 0.25);
  b.median = quantile(v, 0.5);
  b.q3 = quantile(v, 0.75);
  const double iqr = b.q3 - b.q1, lo = b.q1 - 1.5 * iqr, hi = b.q3 + 1.5 * iqr;
  b.whisker_lo = *std::find_if(v.begin(), v.end(), [&](double x) { return x >= lo; });
  b.whisker_hi = *std::find_if(v.rbegin(), v.rend(), [&](double x) { return x <= hi; });
  return b;
}

void write_box_plot_svg(const std::string& path, const std::string& title, const std::string& ylabel,
                        const std::vector<std::string>& groups, const std::vector<BoxSeries>& series, double ymin,
                        double ymax) {
  if (groups.empty() || series.empty()) throw std::invalid_argument("write_box_plot_svg: no group or no series for " + path);
  for (const auto& s : series)
    if (s.values.size() != groups.size())
      throw std::invalid_argument("write_box_plot_svg: series '" + s.label + "' has " + std::to_string(s.values.size()) +
                                  " value lists for " + std::to_string(groups.size()) + " groups");
  if (!(ymin < ymax)) ymax = ymin + 1;
  const double L = 60, R = 20, T = 40, B = 70;
  const double slot = 28 * static_cast<double>(series.size()) + 24;  // one group's width
  double legend = L + 10;
  for (const auto& s : series) legend += 40 + 7 * static_cast<double>(s.label.size());
  const double W = std::max({360.0, L + R + slot * static_cast<double>(groups.size()), legend + R}), H = 420;
  auto py = [&](double v) { return H - B - (std::clamp(v, ymin, ymax) - ymin) / (ymax - ymin) * (H - T - B); };
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H
    << "' font-family='sans-serif' font-size='12'>\n<rect width='100%' height='100%' fill='white'/>\n"
    << "<text x='" << W / 2 << "' y='22' text-anchor='middle' font-size='15'>" << svg_escape(title) << "</text>\n";
  for (int i = 0; i <= 5; ++i) {
    const double v = ymin + (ymax - ymin) * i / 5.0;
    o << "<line x1='" << L << "' x2='" << W - R << "' y1='" << py(v) << "' y2='" << py(v) << "' stroke='#ddd'/>"
      << "<text x='" << L - 6 << "' y='" << py(v) + 4 << "' text-anchor='end'>" << std::round(v * 100) / 100 << "</text>\n";
  }
  o << "<line x1='" << L << "' x2='" << L << "' y1='" << T << "' y2='" << H - B << "' stroke='black'/>"
    << "<line x1='" << L << "' x2='" << W - R << "' y1='" << H - B << "' y2='" << H - B << "' stroke='black'/>\n"
    << "<text transform='translate(16," << (T + H - B) / 2 << ") rotate(-90)' text-anchor='middle'>" << svg_escape(ylabel) << "</text>\n";
  for (size_t g = 0; g < groups.size(); ++g) {
    const double x0 = L + slot * static_cast<double>(g) + 12;
    o << "<text x='" << x0 + (slot - 24) / 2 << "' y='" << H - B + 18 << "' text-anchor='middle'>" << svg_escape(groups[g]) << "</text>\n";
    for (size_t s = 0; s < series.size(); ++s) {
      const double cx = x0 + 28 * static_cast<double>(s) + 14, half = 9;
      const BoxStats b = box_stats(series[s].values[g]);
      const std::string& c = series[s].color;
      if (b.n == 0) {
        o << "<text x='" << cx << "' y='" << H - B - 6 << "' text-anchor='middle' font-size='10' fill='#888'>n/a</text>\n";
        continue;
      }
      o << "<line x1='" << cx << "' x2='" << cx << "' y1='" << py(b.whisker_lo) << "' y2='" << py(b.q1) << "' stroke='" << c << "'/>"
        << "<line x1='" << cx << "' x2='" << cx << "' y1='" << py(b.q3) << "' y2='" << py(b.whisker_hi) << "' stroke='" << c << "'/>"
        << "<line x1='" << cx - half / 2 << "' x2='" << cx + half / 2 << "' y1='" << py(b.whisker_lo) << "' y2='"
        << py(b.whisker_lo) << "' stroke='" << c << "'/>"
        << "<line x1='" << cx - half / 2 << "' x2='" << cx + half / 2 << "' y1='" << py(b.whisker_hi) << "' y2='"
        << py(b.whisker_hi) << "' stroke='" << c << "'/>\n"
        << "<rect x='" << cx - half << "' y='" << py(b.q3) << "' width='" << 2 * half << "' height='"
        << std::max(0.5, py(b.q1) - py(b.q3)) << "' fill='" << c << "' fill-opacity='0.2' stroke='" << c << "'/>"
        << "<line x1='" << cx - half << "' x2='" << cx + half << "' y1='" << py(b.median) << "' y2='" << py(b.median)
        << "' stroke='" << c << "' stroke-width='2'/>\n";
      int k = 0;
      for (double v : series[s].values[g]) {
        if (!std::isfinite(v)) continue;
        const double jitter = (static_cast<double>((k * 7919) % 11) / 10.0 - 0.5) * 1.4 * half;  // deterministic
        o << "<circle cx='" << cx + jitter << "' cy='" << py(v) << "' r='2.2' fill='" << c << "' fill-opacity='0.75'/>";
        ++k;
      }
      o << "\n";
    }
  }
  double lx = L + 10;  // legend entries one after the other, spaced by their text's length (~7 px a character)
  for (const auto& s : series) {
    o << "<rect x='" << lx << "' y='" << H - 26 << "' width='14' height='8' fill='" << s.color << "'/><text x='"
      << lx + 20 << "' y='" << H - 18 << "'>" << svg_escape(s.label) << "</text>\n";
    lx += 40 + 7 * static_cast<double>(s.label.size());
  }
  o << "</svg>\n";
  const std::string text = o.str();
  io::write_file_atomic(path, std::vector<uint8_t>(text.begin(), text.end()), false);
}

}  // namespace seg
