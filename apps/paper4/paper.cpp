// Paper 4's published numbers (see paper.h), transcribed from the paper's Tables 1–3.
#include "apps/paper4/paper.h"

#include <stdexcept>

#include "data/transforms/distance_maps.h"

namespace seg::paper4 {

namespace {
// {cup, disc, polyp} × {dice, jaccard}
struct Row {
  DiceJaccard cup, disc, polyp;
};
const Row& table1_row(MultitaskVariant v) {
  static const Row m{{0.8655, 0.7712}, {0.9586, 0.9215}, {0.8125, 0.7323}};
  static const Row mc2{{0.8715, 0.7803}, {0.9646, 0.9324}, {0.8151, 0.7391}};
  static const Row md2{{0.8723, 0.7807}, {0.9665, 0.9358}, {0.8283, 0.7482}};
  static const Row cmc{{0.8717, 0.7798}, {0.9643, 0.9318}, {0.8152, 0.7383}};
  static const Row cmd{{0.8721, 0.7805}, {0.9662, 0.9348}, {0.8291, 0.7514}};
  switch (v) {
    case MultitaskVariant::M: return m;
    case MultitaskVariant::TwoDecMC: return mc2;
    case MultitaskVariant::TwoDecMD: return md2;
    case MultitaskVariant::ConvMC: return cmc;
    case MultitaskVariant::ConvMD: return cmd;
  }
  throw std::invalid_argument("paper4: unknown variant");
}
const Row& table3_row(DistanceVariant v) {
  static const Row d1{{0.8727, 0.7812}, {0.9667, 0.9362}, {0.7891, 0.7020}};
  static const Row d2{{0.8704, 0.7779}, {0.9667, 0.9362}, {0.8222, 0.7396}};
  static const Row d3{{0.8736, 0.7831}, {0.9666, 0.9361}, {0.8291, 0.7514}};
  return v == DistanceVariant::D1 ? d1 : v == DistanceVariant::D2 ? d2 : d3;
}
DiceJaccard pick(const Row& r, const std::string& s) {
  if (s == "cup") return r.cup;
  if (s == "disc") return r.disc;
  if (s == "polyp") return r.polyp;
  throw std::invalid_argument("paper4: unknown structure '" + s + "' (cup, disc or polyp)");
}
}  // namespace

DiceJaccard paper_table1(MultitaskVariant v, const std::string& structure) { return pick(table1_row(v), structure); }
DiceJaccard paper_table3(DistanceVariant v, const std::string& structure) { return pick(table3_row(v), structure); }

double paper_table2_ms(MultitaskVariant v) {
  switch (v) {
    case MultitaskVariant::M: return 1.3131;
    case MultitaskVariant::TwoDecMC: return 1.8677;
    case MultitaskVariant::TwoDecMD: return 1.8531;
    case MultitaskVariant::ConvMC: return 1.3384;
    case MultitaskVariant::ConvMD: return 1.3235;
  }
  throw std::invalid_argument("paper4: unknown variant");
}

int64_t paper_table2_parameters(MultitaskVariant v) {
  switch (v) {
    case MultitaskVariant::M: return 7844256;
    case MultitaskVariant::TwoDecMC: return 10978272;
    case MultitaskVariant::TwoDecMD: return 10977984;
    case MultitaskVariant::ConvMC: return 7844832;
    case MultitaskVariant::ConvMD: return 7844544;
  }
  throw std::invalid_argument("paper4: unknown variant");
}

}  // namespace seg::paper4
