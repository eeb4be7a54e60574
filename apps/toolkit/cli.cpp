// Argument parsing for the apps (see cli.h).
#include "apps/toolkit/cli.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include "engine/dist_launch.h"

namespace seg::cli {

Args& Args::option(const std::string& name, const std::string& def, const std::string& help) {
  order_.push_back(name);
  opts_[name] = Opt{def, help, false, false};
  return *this;
}

Args& Args::flag(const std::string& name, const std::string& help) {
  order_.push_back(name);
  opts_[name] = Opt{"0", help, true, false};
  return *this;
}

Args& Args::distributed() {
  distributed_ = true;
  option("nproc", "1", "data-parallel ranks to start on this machine (one per GPU, or CPU ranks sharing the cores); "
                       "the batch size is per rank. Across machines: set MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, "
                       "LOCAL_RANK as torchrun does (docs/distributed.md)");
  flag("sync-bn", "data parallel: BatchNorm statistics over the global batch (default: per rank, as PyTorch's DDP)");
  option("dist-timeout", "1800", "data parallel: seconds a collective may wait for the other ranks before it names them");
  return *this;
}

bool Args::parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("%s", help().c_str());
      return false;
    }
    if (a.rfind("--", 0) != 0) throw std::runtime_error(program_ + ": unexpected argument '" + a + "' (try --help)");
    std::string name = a.substr(2), value;
    const auto eq = name.find('=');
    bool has_value = false;
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    auto it = opts_.find(name);
    if (it == opts_.end()) throw std::runtime_error(program_ + ": unknown option '--" + name + "' (try --help)");
    if (it->second.is_flag) {
      if (has_value) throw std::runtime_error(program_ + ": --" + name + " takes no value");
      it->second.value.assign(1, '1');  // (not = "1": GCC 12 warns -Wrestrict falsely)
    } else {
      if (!has_value) {
        if (i + 1 >= argc) throw std::runtime_error(program_ + ": --" + name + " needs a value");
        value = argv[++i];
      }
      it->second.value = value;
    }
    it->second.given = true;
  }
  if (distributed_) {
    dist::LaunchSettings st;
    const int64_t n = integer("nproc");
    SEG_CHECK(n >= 1 && n <= 1024, program_, ": --nproc must be in [1, 1024], got ", n);
    st.nproc = static_cast<int>(n);
    st.sync_bn = on("sync-bn");
    const double t = real("dist-timeout");
    SEG_CHECK(t > 0, program_, ": --dist-timeout must be positive, got ", t);
    const int code = dist::launch_or_join(st, t, argc, argv);
    if (code >= 0) {
      std::fflush(stdout);
      std::exit(code);  // the launcher: its ranks did the work
    }
  }
  return true;
}

const Args::Opt& Args::get(const std::string& name) const {
  auto it = opts_.find(name);
  if (it == opts_.end()) throw std::logic_error("option --" + name + " was never declared");
  return it->second;
}

std::string Args::str(const std::string& name) const { return get(name).value; }

int64_t Args::integer(const std::string& name) const {
  const std::string& v = get(name).value;
  size_t pos = 0;
  int64_t r = 0;
  try {
    r = std::stoll(v, &pos);
  } catch (...) {
    pos = 0;
  }
  if (pos != v.size() || v.empty()) throw std::runtime_error(program_ + ": --" + name + " expects an integer, got '" + v + "'");
  return r;
}

double Args::real(const std::string& name) const {
  const std::string& v = get(name).value;
  size_t pos = 0;
  double r = 0;
  try {
    r = std::stod(v, &pos);
  } catch (...) {
    pos = 0;
  }
  if (pos != v.size() || v.empty()) throw std::runtime_error(program_ + ": --" + name + " expects a number, got '" + v + "'");
  return r;
}

bool Args::on(const std::string& name) const { return get(name).value == "1"; }
bool Args::given(const std::string& name) const { return get(name).given; }

std::vector<double> Args::reals(const std::string& name) const {
  std::vector<double> r;
  std::stringstream ss(get(name).value);
  std::string part;
  while (std::getline(ss, part, ',')) {
    size_t pos = 0;
    double v = 0;
    try {
      v = std::stod(part, &pos);
    } catch (...) {
      pos = 0;
    }
    if (pos != part.size() || part.empty())
      throw std::runtime_error(program_ + ": --" + name + " expects numbers separated by commas, got '" + get(name).value + "'");
    r.push_back(v);
  }
  return r;
}

void Args::set(const std::string& name, const std::string& value) {
  auto it = opts_.find(name);
  if (it == opts_.end()) throw std::logic_error("option --" + name + " was never declared");
  if (!it->second.given) it->second.value = value;  // an explicit command-line value wins over a preset
}

std::string Args::help() const {
  std::ostringstream o;
  o << "usage: " << program_ << " [options]\n" << summary_ << "\n\noptions:\n";
  for (const auto& n : order_) {
    const Opt& op = opts_.at(n);
    std::string left = "  --" + n + (op.is_flag ? "" : " V");
    o << left << std::string(left.size() < 24 ? 24 - left.size() : 1, ' ') << op.help;
    if (!op.is_flag && !op.value.empty()) o << " (default: " << op.value << ")";
    o << "\n";
  }
  return o.str();
}

std::map<std::string, std::string> Args::values() const {
  std::map<std::string, std::string> m;
  for (const auto& [n, o] : opts_) m[n] = o.value;
  return m;
}

std::vector<std::string> split_list(const std::string& s, char sep) {
  std::vector<std::string> r;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, sep))
    if (!part.empty()) r.push_back(part);
  return r;
}

}  // namespace seg::cli
