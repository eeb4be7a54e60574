// GIF through giflib and JSRT with SCR's masks as SCR ships them (scratch/fold1|fold2/masks/<structure>/<ID>.gif).
// The fixtures are written at test time by Pillow (Debian python3-pil), an encoder independent of ours: grey
// (interlaced and not), bilevel ('1', as SCR's 0/255 masks) and colour-palette GIFs; Pillow also reads back a GIF our
// writer made. Then a two-case JSRT folder in SCR's layout is listed and loaded with both class sets (the default
// lung/heart/clavicle and paper 2's right lung/left lung/heart), and a merged label map refuses paper 2's classes.
// Skipped with a reason when /usr/bin/python3 lacks PIL.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "data/datasets/datasets.h"
#include "data/formats/gif_io.h"
#include "data/formats/image_io.h"
#include "data/formats/jsrt.h"
#include "data/formats/png_io.h"
#include "test_util.h"

using namespace seg;
using segtest::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr int kW = 37, kH = 23;
int ramp(int y, int x) { return (y * 7 + x * 3) % 256; }

void expect_error(const std::function<void()>& f, std::initializer_list<std::string> phrases) {
  try {
    f();
    ADD_FAILURE() << "no error thrown";
  } catch (const std::runtime_error& e) {
    for (const auto& p : phrases) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << "'" << p << "' not in: " << e.what();
  }
}

}  // namespace

TEST(Gif, ReadsPillowGreyBilevelAndPaletteFiles) {
  SKIP_IF_NO_PIL();
  TempDir t;
  ASSERT_EQ(segtest::run_python(t, "import numpy as np\nfrom PIL import Image\nd = '" + t.path.string() + "'\n" +
                                       "y, x = np.mgrid[0:" + std::to_string(kH) + ", 0:" + std::to_string(kW) + "]\n"
                                       "g = ((y * 7 + x * 3) % 256).astype(np.uint8)\n"
                                       "Image.fromarray(g, 'L').save(d + '/grey_interlaced.gif', interlace=True)\n"
                                       "Image.fromarray(g, 'L').save(d + '/grey.gif', interlace=False)\n"
                                       "Image.fromarray(g > 128).save(d + '/bilevel.gif')\n"
                                       "p = Image.fromarray((g % 5).astype(np.uint8), 'P')\n"
                                       "p.putpalette([10, 20, 30, 200, 0, 0, 0, 200, 0, 0, 0, 200, 255, 255, 255])\n"
                                       "p.save(d + '/colour.gif')\n"),
            0);
  for (const char* name : {"grey_interlaced.gif", "grey.gif", "bilevel.gif"}) {
    SCOPED_TRACE(name);
    const Volume v = read_image(t / name);
    ASSERT_EQ(v.dims, (std::array<int64_t, 3>{kW, kH, 1}));
    ASSERT_EQ(v.channels, 1);
    const bool bilevel = std::string(name) == "bilevel.gif";
    for (int y = 0; y < kH; ++y)
      for (int x = 0; x < kW; ++x) {
        const float want = bilevel ? (ramp(y, x) > 128 ? 255.f : 0.f) : static_cast<float>(ramp(y, x));
        ASSERT_EQ(v.at(x, y, 0), want) << "pixel " << x << ", " << y;
      }
  }
  const Volume c = read_gif(t / "colour.gif");
  ASSERT_EQ(c.channels, 3);
  const float pal[5][3] = {{10, 20, 30}, {200, 0, 0}, {0, 200, 0}, {0, 0, 200}, {255, 255, 255}};
  const size_t plane = static_cast<size_t>(kW * kH);
  for (int y = 0; y < kH; ++y)
    for (int x = 0; x < kW; ++x)
      for (int ch = 0; ch < 3; ++ch)
        ASSERT_EQ(c.data[ch * plane + static_cast<size_t>(y * kW + x)], pal[ramp(y, x) % 5][ch]);
  // Bad files name the file and say what is wrong.
  const auto bytes = io::read_file(t / "grey.gif");
  const std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 40);  // inside the image data
  expect_error([&] { decode_gif(cut.data(), cut.size(), "cut.gif"); }, {"cut.gif", "corrupt GIF"});
  const std::vector<uint8_t> head(bytes.begin(), bytes.begin() + 100);  // inside the colour map
  expect_error([&] { decode_gif(head.data(), head.size(), "head.gif"); }, {"head.gif", "not a readable GIF"});
  const std::vector<uint8_t> junk = {'n', 'o', 't', ' ', 'a', ' ', 'g', 'i', 'f'};
  expect_error([&] { decode_gif(junk.data(), junk.size(), "junk.gif"); }, {"junk.gif", "not a readable GIF"});
}

TEST(Gif, PillowReadsOurGreyWriter) {
  SKIP_IF_NO_PIL();
  TempDir t;
  std::vector<uint8_t> g(static_cast<size_t>(kW * kH));
  for (int y = 0; y < kH; ++y)
    for (int x = 0; x < kW; ++x) g[static_cast<size_t>(y * kW + x)] = static_cast<uint8_t>(ramp(y, x));
  write_gif_grey(t / "ours.gif", kW, kH, g);
  EXPECT_FALSE(fs::exists(t / "ours.gif.tmp"));
  ASSERT_EQ(segtest::run_python(t, "import numpy as np\nfrom PIL import Image\n"
                                   "a = np.asarray(Image.open('" + (t / "ours.gif") + "').convert('L')).astype(int)\n"
                                   "y, x = np.mgrid[0:" + std::to_string(kH) + ", 0:" + std::to_string(kW) + "]\n"
                                   "assert a.shape == y.shape, a.shape\n"
                                   "assert (a == (y * 7 + x * 3) % 256).all()\n"),
            0);
  EXPECT_EQ(read_gif(t / "ours.gif").data, std::vector<float>(g.begin(), g.end()));
  EXPECT_THROW(write_gif_grey(t / "bad.gif", 3, 3, g), std::invalid_argument);
}

// Two JSRT cases in SCR's layout: JPCLN001 in fold1, JPCNN002 in fold2, masks 1024² (the image is halved to match).
TEST(JsrtScr, GifLayoutListsLoadsAndKeepsTheLungsApartForPaper2) {
  SKIP_IF_NO_PIL();
  TempDir t;
  std::vector<uint8_t> raw(static_cast<size_t>(kJsrtSide * kJsrtSide * 2), 0);
  for (size_t i = 0; i < raw.size(); i += 2) raw[i] = 0x07, raw[i + 1] = 0xD0;  // 2000 big-endian
  for (const char* id : {"JPCLN001", "JPCNN002"})
    std::ofstream(t / (std::string(id) + ".IMG"), std::ios::binary).write(reinterpret_cast<const char*>(raw.data()), raw.size());
  // Strips (rows y0..y1, columns x0..x1): right lung on the image's left, left lung on its right, the heart over both,
  // the left clavicle over the left lung, the right clavicle alone lower down.
  ASSERT_EQ(segtest::run_python(t, "import numpy as np, os\nfrom PIL import Image\n"
                                   "d = '" + t.path.string() + "'\n"
                                   "boxes = {'right lung': (100, 200, 0, 500), 'left lung': (100, 200, 524, 1024),\n"
                                   "         'heart': (150, 300, 400, 700), 'left clavicle': (120, 140, 600, 900),\n"
                                   "         'right clavicle': (700, 720, 0, 1024)}\n"
                                   "for fold, cid in (('fold1', 'JPCLN001'), ('fold2', 'JPCNN002')):\n"
                                   "    for s, (y0, y1, x0, x1) in boxes.items():\n"
                                   "        m = np.zeros((1024, 1024), bool)\n"
                                   "        m[y0:y1, x0:x1] = True\n"
                                   "        p = os.path.join(d, 'scratch', fold, 'masks', s)\n"
                                   "        os.makedirs(p, exist_ok=True)\n"
                                   "        Image.fromarray(m).save(os.path.join(p, cid + '.gif'))\n"),
            0);
  const auto cases = list_cases("jsrt", t.path.string());
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[0].id, "JPCLN001");
  EXPECT_EQ(fs::path(cases[0].label_path), t.path / "scratch" / "fold1" / "masks");
  EXPECT_EQ(fs::path(cases[1].label_path), t.path / "scratch" / "fold2" / "masks");

  const LoadedCase merged = load_case(cases[1]);  // the default classes: 1 lung, 2 heart, 3 clavicle
  EXPECT_EQ(merged.images[0].dims, (std::array<int64_t, 3>{1024, 1024, 1}));
  EXPECT_FLOAT_EQ(merged.images[0].at(3, 3, 0), 2000.f);
  EXPECT_EQ(merged.label.at(10, 110, 0), 1.f);   // right lung
  EXPECT_EQ(merged.label.at(1000, 110, 0), 1.f); // left lung
  EXPECT_EQ(merged.label.at(450, 180, 0), 2.f);  // heart over the lungs
  EXPECT_EQ(merged.label.at(800, 130, 0), 3.f);  // clavicle over the left lung
  EXPECT_EQ(merged.label.at(5, 710, 0), 3.f);
  EXPECT_EQ(merged.label.at(5, 500, 0), 0.f);

  const LoadedCase p2 = load_case(cases[1], LoadOptions{.jsrt = JsrtClasses::RightLeftLungHeart});
  EXPECT_EQ(p2.label.at(10, 110, 0), 1.f);    // right lung (patient's right, image left)
  EXPECT_EQ(p2.label.at(1000, 110, 0), 2.f);  // left lung
  EXPECT_EQ(p2.label.at(450, 180, 0), 3.f);   // heart
  EXPECT_EQ(p2.label.at(800, 130, 0), 2.f);   // under the left clavicle: still left lung
  EXPECT_EQ(p2.label.at(5, 710, 0), 0.f);     // a clavicle alone is background
  EXPECT_EQ(p2.label.at(510, 110, 0), 0.f);   // between the lungs, above the heart

  fs::remove(t.path / "scratch/fold2/masks/heart/JPCNN002.gif");
  expect_error([&] { list_cases("jsrt", t.path.string()); }, {"JPCNN002 lacks", "heart/JPCNN002.gif"});
  fs::remove_all(t.path / "scratch/fold2");
  expect_error([&] { list_cases("jsrt", t.path.string()); }, {"no mask for JPCNN002", "scratch/fold1|fold2"});
}

TEST(JsrtScr, MergedLabelMapRefusesLeftRightClasses) {
  TempDir t;
  std::vector<uint8_t> raw(static_cast<size_t>(kJsrtSide * kJsrtSide * 2), 0);
  fs::create_directories(t.path / "masks");
  std::ofstream(t / "JPCLN001.IMG", std::ios::binary).write(reinterpret_cast<const char*>(raw.data()), raw.size());
  write_png_grey(t / "masks/JPCLN001.png", 1024, 1024, std::vector<uint8_t>(1024 * 1024, 1));
  const auto cases = list_cases("jsrt", t.path.string());
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(load_case(cases[0]).label.at(0, 0, 0), 1.f);
  expect_error([&] { load_case(cases[0], LoadOptions{.jsrt = JsrtClasses::RightLeftLungHeart}); },
               {"masks/JPCLN001.png", "merges both lungs", "per-structure"});
}
