#include "edgepipe/components/data_report.h"

#include <fmt/format.h>

#include <map>
#include <string_view>

namespace edgepipe::components {
namespace {

std::string_view TypeName(tfmd::FeatureNameStatistics::Type t) {
  switch (t) {
    case tfmd::FeatureNameStatistics::INT:
      return "INT";
    case tfmd::FeatureNameStatistics::FLOAT:
      return "FLOAT";
    case tfmd::FeatureNameStatistics::STRING:
      return "STRING";
    case tfmd::FeatureNameStatistics::BYTES:
      return "BYTES";
    default:
      return "STRUCT";
  }
}

std::string Percent(uint64_t part, uint64_t whole) {
  return whole == 0 ? "-"
                    : fmt::format("{:.1f}%",
                                  100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

std::string ValueCounts(const tfmd::CommonStatistics& c) {
  return fmt::format("{}/{:.4g}/{}", c.min_num_values(), c.avg_num_values(), c.max_num_values());
}

std::string Quote(std::string_view s, size_t max = 24) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  out += s.size() > max ? "...\"" : "\"";
  return out;
}

}  // namespace

std::string FormatStatistics(const tfmd::DatasetFeatureStatistics& stats) {
  std::string out = fmt::format("Split \"{}\": {} examples, {} features\n", stats.name(),
                                stats.num_examples(), stats.features_size());
  const uint64_t n = stats.num_examples();
  bool header = false;
  for (const auto& f : stats.features()) {
    if (!f.has_num_stats()) continue;
    if (!header) {
      out += fmt::format(
          "\nNumeric features\n  {:<20} {:<6} {:>7} {:>13} {:>11} {:>11} {:>6} "
          "{:>11} {:>11} {:>11}\n",
          "name", "type", "missing", "values/ex", "mean", "std_dev", "zeros", "min", "median",
          "max");
      header = true;
    }
    const auto& s = f.num_stats();
    const auto& c = s.common_stats();
    out += fmt::format(
        "  {:<20} {:<6} {:>7} {:>13} {:>11.5g} {:>11.5g} {:>6} {:>11.5g} "
        "{:>11.5g} {:>11.5g}\n",
        f.name(), TypeName(f.type()), Percent(c.num_missing(), n), ValueCounts(c), s.mean(),
        s.std_dev(), Percent(s.num_zeros(), c.tot_num_values()), s.min(), s.median(), s.max());
    for (const auto& h : s.histograms()) {
      if (h.buckets_size() == 0) continue;
      std::string counts;
      for (const auto& b : h.buckets()) {
        counts += fmt::format("{}{:.0f}", counts.empty() ? "" : " ", b.sample_count());
      }
      out +=
          fmt::format("    histogram [{:.5g}, {:.5g}] in {} buckets: {}", h.buckets(0).low_value(),
                      h.buckets(h.buckets_size() - 1).high_value(), h.buckets_size(), counts);
      if (h.num_nan() > 0) out += fmt::format("  (NaN: {})", h.num_nan());
      out += "\n";
    }
  }
  header = false;
  for (const auto& f : stats.features()) {
    if (f.has_num_stats()) continue;
    if (!header) {
      out += fmt::format("\nString features\n  {:<20} {:<6} {:>7} {:>13} {:>8}  {}\n", "name",
                         "type", "missing", "values/ex", "unique", "top values");
      header = true;
    }
    if (f.has_string_stats()) {
      const auto& s = f.string_stats();
      std::string top;
      for (int i = 0; i < s.top_values_size() && i < 5; ++i) {
        top += fmt::format("{}{} ({:.0f})", i ? ", " : "", Quote(s.top_values(i).value()),
                           s.top_values(i).frequency());
      }
      if (s.top_values_size() > 5) top += ", ...";
      out += fmt::format("  {:<20} {:<6} {:>7} {:>13} {:>8}  {}\n", f.name(), TypeName(f.type()),
                         Percent(s.common_stats().num_missing(), n), ValueCounts(s.common_stats()),
                         s.unique(), top);
    } else {
      const auto& s = f.bytes_stats();
      out += fmt::format("  {:<20} {:<6} {:>7} {:>13} {:>8}  ({:.4g} bytes/value, {}-{})\n",
                         f.name(), TypeName(f.type()), Percent(s.common_stats().num_missing(), n),
                         ValueCounts(s.common_stats()), s.unique(), s.avg_num_bytes(),
                         s.min_num_bytes(), s.max_num_bytes());
    }
  }
  return out;
}

std::string FormatSchema(const tfmd::Schema& schema) {
  std::string out = fmt::format("{:<20} {:<6} {:<10} {:<16} {}\n", "feature", "type", "presence",
                                "shape/values", "domain");
  for (const auto& f : schema.feature()) {
    std::string presence = "optional";
    if (f.has_presence() && f.presence().has_min_fraction() && f.presence().min_fraction() >= 1) {
      presence = "required";
    } else if (f.has_presence() && f.presence().has_min_fraction()) {
      presence = fmt::format(">= {:.3g}", f.presence().min_fraction());
    }
    std::string shape = "-";
    if (f.has_shape()) {
      shape = "[";
      for (int i = 0; i < f.shape().dim_size(); ++i) {
        shape += fmt::format("{}{}", i ? ", " : "", f.shape().dim(i).size());
      }
      shape += "]";
    } else if (f.has_value_count()) {
      const auto& vc = f.value_count();
      shape = fmt::format("{}..{}", vc.has_min() ? std::to_string(vc.min()) : "0",
                          vc.has_max() ? std::to_string(vc.max()) : "");
    }
    std::string domain = "-";
    if (f.has_domain() || f.has_string_domain()) {
      const tfmd::StringDomain* d = f.has_string_domain() ? &f.string_domain() : nullptr;
      for (const auto& sd : schema.string_domain()) {
        if (f.has_domain() && sd.name() == f.domain()) d = &sd;
      }
      if (d != nullptr) {
        domain = "{";
        for (int i = 0; i < d->value_size() && i < 8; ++i) {
          domain += (i ? ", " : "") + Quote(d->value(i), 16);
        }
        domain += d->value_size() > 8 ? fmt::format(", ... ({} values)}}", d->value_size()) : "}";
      } else {
        domain = "domain " + f.domain() + " (not defined)";
      }
    } else if (f.has_int_domain()) {
      domain = fmt::format("int [{}, {}]", f.int_domain().min(), f.int_domain().max());
    } else if (f.has_float_domain()) {
      domain =
          fmt::format("float [{:.5g}, {:.5g}]", f.float_domain().min(), f.float_domain().max());
    }
    out += fmt::format("{:<20} {:<6} {:<10} {:<16} {}\n", f.name(),
                       tfmd::FeatureType_Name(f.type()), presence, shape, domain);
  }
  return out;
}

std::string FormatAnomalies(const tfmd::Anomalies& anomalies) {
  std::string out;
  if (anomalies.data_missing()) out += "(dataset): no examples\n";
  std::map<std::string, const tfmd::AnomalyInfo*> sorted;
  for (const auto& [name, info] : anomalies.anomaly_info()) sorted[name] = &info;
  for (const auto& [name, info] : sorted) {
    for (const auto& r : info->reason()) {
      out += fmt::format("{}: {} [{}]: {}\n", name, r.short_description(),
                         tfmd::AnomalyInfo::Type_Name(r.type()), r.description());
    }
  }
  return out.empty() ? "No anomalies.\n" : out;
}

}  // namespace edgepipe::components
