// Progress of a long phase (a training run, one task's evaluation), reported by rank 0:
// a bar redrawn in place with rate and ETA on a terminal, one JSON event per line
// otherwise (logs, CI, nightly cron), nothing under --quiet.
#pragma once

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace lnb::harness {

inline std::string fmt_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "--:--";
  const auto t = static_cast<int64_t>(s + 0.5);
  std::ostringstream o;
  if (t >= 3600) o << t / 3600 << ":" << std::setw(2) << std::setfill('0') << (t / 60) % 60;
  else o << t / 60;
  o << ":" << std::setw(2) << std::setfill('0') << t % 60;
  return o.str();
}

class Progress {
 public:
  // `event`: the JSON lines' "event" value; `unit`: the rate's unit ("step", "sample").
  Progress(bool quiet, std::string label, std::string event, std::string unit)
      : quiet_(quiet), tty_(isatty(STDERR_FILENO) != 0), label_(std::move(label)), event_(std::move(event)),
        unit_(std::move(unit)) {}

  // `done` of `total` units after `seconds` of work; `text` follows the bar, `fields`
  // join the JSON event.
  void update(int64_t done, int64_t total, double seconds, const std::string& text, nlohmann::ordered_json fields) const {
    if (quiet_) return;
    const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
    const double eta = rate > 0 ? static_cast<double>(total - done) / rate : -1;
    if (tty_) {
      const int width = 24;
      const int filled = static_cast<int>(width * std::min(done, total) / std::max<int64_t>(total, 1));
      std::fprintf(stderr, "\r%s [%s%s] %lld/%lld  %.2f %s/s  ETA %s  %s ", label_.c_str(),
                   std::string(static_cast<size_t>(filled), '#').c_str(),
                   std::string(static_cast<size_t>(width - filled), ' ').c_str(), static_cast<long long>(done),
                   static_cast<long long>(total), rate, unit_.c_str(), fmt_duration(eta).c_str(), text.c_str());
      if (done >= total) std::fprintf(stderr, "\n");
    } else {
      nlohmann::ordered_json j = {{"event", event_}, {"run", label_}, {"done", done}, {"total", total},
                                  {"seconds", seconds}, {"eta_seconds", eta}};
      for (auto& [k, v] : fields.items()) j[k] = v;
      std::cerr << j.dump() << "\n";
    }
  }

 private:
  bool quiet_, tty_;
  std::string label_, event_, unit_;
};

}  // namespace lnb::harness
