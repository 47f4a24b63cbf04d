#include "edgepipe/eval/slicer.h"

#include <algorithm>
#include <set>

namespace edgepipe::eval {
namespace {

// A spec's reads: (feature, optional value), sorted by feature.
struct RawPart {
  std::string key;
  bool has_value = false;
  std::string value;
};

Result<std::vector<RawPart>> PartsOf(const SlicingSpec& spec, const std::string& where) {
  std::vector<RawPart> parts;
  for (const std::string& k : spec.feature_keys()) {
    if (k.empty()) return Status::InvalidArgument(where + ": empty feature key");
    parts.push_back({k, false, ""});
  }
  for (const auto& [k, v] : spec.feature_values()) {
    if (k.empty()) return Status::InvalidArgument(where + ": empty feature_values key");
    parts.push_back({k, true, v});
  }
  std::sort(parts.begin(), parts.end(),
            [](const RawPart& a, const RawPart& b) { return a.key < b.key; });
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].key == parts[i - 1].key) {
      return Status::InvalidArgument(where + ": feature \"" + parts[i].key + "\" is read twice");
    }
  }
  return parts;
}

std::string Describe(const std::vector<RawPart>& parts) {
  std::string out;
  for (const RawPart& p : parts) {
    if (!out.empty()) out += ", ";
    out += p.key;
    if (p.has_value) out += "=" + p.value;
  }
  return out;
}

}  // namespace

Result<Slicer> Slicer::Create(const EvalConfig& config) {
  Slicer s;
  std::vector<std::vector<RawPart>> raw;
  std::vector<std::string> names;
  for (int i = 0; i < config.slicing_specs_size(); ++i) {
    const std::string where = "slicing_specs[" + std::to_string(i) + "]";
    ASSIGN_OR_RETURN(std::vector<RawPart> parts, PartsOf(config.slicing_specs(i), where));
    if (parts.empty()) {
      s.overall_ = true;
      continue;
    }
    names.push_back(where + " (" + Describe(parts) + ")");
    raw.push_back(std::move(parts));
  }
  for (int i = 0; i < config.cross_slicing_specs_size(); ++i) {
    const CrossSlicingSpec& cross = config.cross_slicing_specs(i);
    const std::string where = "cross_slicing_specs[" + std::to_string(i) + "]";
    ASSIGN_OR_RETURN(std::vector<RawPart> base,
                     PartsOf(cross.baseline_spec(), where + ".baseline_spec"));
    if (cross.slicing_specs_size() == 0) {
      return Status::InvalidArgument(where + ": no slicing_specs to cross the baseline with");
    }
    for (int j = 0; j < cross.slicing_specs_size(); ++j) {
      const std::string w = where + ".slicing_specs[" + std::to_string(j) + "]";
      ASSIGN_OR_RETURN(std::vector<RawPart> other, PartsOf(cross.slicing_specs(j), w));
      std::vector<RawPart> parts = base;
      for (RawPart& p : other) {
        for (const RawPart& b : base) {
          if (b.key == p.key) {
            return Status::InvalidArgument(w + ": feature \"" + p.key +
                                           "\" is also in the baseline_spec");
          }
        }
        parts.push_back(std::move(p));
      }
      std::sort(parts.begin(), parts.end(),
                [](const RawPart& a, const RawPart& b) { return a.key < b.key; });
      if (parts.empty()) {
        s.overall_ = true;
        continue;
      }
      names.push_back(where + ".slicing_specs[" + std::to_string(j) + "] (" + Describe(parts) +
                      ")");
      raw.push_back(std::move(parts));
    }
  }
  if (config.slicing_specs_size() == 0 && config.cross_slicing_specs_size() == 0) {
    s.overall_ = true;
  }
  std::set<std::string> keys;
  for (const auto& parts : raw) {
    for (const RawPart& p : parts) keys.insert(p.key);
  }
  s.feature_keys_.assign(keys.begin(), keys.end());
  for (const auto& parts : raw) {
    Spec spec;
    for (const RawPart& p : parts) {
      const int key =
          static_cast<int>(std::lower_bound(s.feature_keys_.begin(), s.feature_keys_.end(), p.key) -
                           s.feature_keys_.begin());
      spec.parts.push_back({key, p.has_value, p.value});
    }
    s.specs_.push_back(std::move(spec));
  }
  s.spec_names_ = std::move(names);
  return s;
}

void Slicer::Assign(const ExtractedChunk& chunk, ChunkSlices* out) const {
  out->has_overall = overall_;
  out->rows.clear();
  out->missing.assign(specs_.size(), 0);
  SliceKey key;
  std::vector<const std::vector<std::string>*> lists;
  std::vector<size_t> pos;
  for (size_t s = 0; s < specs_.size(); ++s) {
    const Spec& spec = specs_[s];
    const size_t np = spec.parts.size();
    lists.assign(np, nullptr);
    for (int64_t i = 0; i < chunk.size; ++i) {
      bool missing = false;
      bool excluded = false;
      for (size_t p = 0; p < np; ++p) {
        const auto& values =
            chunk.slice_values[static_cast<size_t>(spec.parts[p].key)][static_cast<size_t>(i)];
        if (values.empty()) {
          missing = true;
          break;
        }
        if (spec.parts[p].has_value &&
            !std::binary_search(values.begin(), values.end(), spec.parts[p].value)) {
          excluded = true;
        }
        lists[p] = &values;
      }
      if (missing) {
        ++out->missing[s];
        continue;
      }
      if (excluded) continue;
      // Cross product of the values (one value when a part has a required value).
      pos.assign(np, 0);
      while (true) {
        key.features.resize(np);
        for (size_t p = 0; p < np; ++p) {
          const Part& part = spec.parts[p];
          key.features[p].first = feature_keys_[static_cast<size_t>(part.key)];
          key.features[p].second = part.has_value ? part.value : (*lists[p])[pos[p]];
        }
        auto& rows = out->rows[key];
        if (rows.empty() || rows.back() != static_cast<int32_t>(i)) {
          rows.push_back(static_cast<int32_t>(i));
        }
        size_t p = 0;
        for (; p < np; ++p) {
          if (spec.parts[p].has_value) continue;
          if (++pos[p] < lists[p]->size()) break;
          pos[p] = 0;
        }
        if (p == np) break;
      }
    }
  }
  // Two specs can name the same slice (feature_keys "a" and feature_values
  // a=1): its rows were appended twice.
  for (auto& [k, rows] : out->rows) {
    if (!std::is_sorted(rows.begin(), rows.end()) ||
        std::adjacent_find(rows.begin(), rows.end()) != rows.end()) {
      std::sort(rows.begin(), rows.end());
      rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    }
  }
}

int Slicer::SpecIndexOf(const SliceKey& slice) const {
  for (size_t s = 0; s < specs_.size(); ++s) {
    const Spec& spec = specs_[s];
    if (spec.parts.size() != slice.features.size()) continue;
    bool same = true;
    for (size_t p = 0; p < spec.parts.size() && same; ++p) {
      same = feature_keys_[static_cast<size_t>(spec.parts[p].key)] == slice.features[p].first;
    }
    if (same) return static_cast<int>(s);
  }
  return -1;
}

std::vector<std::pair<SliceKey, double>> DropSmallSlices(std::vector<SliceResult>* slices,
                                                         int64_t min_slice_size) {
  std::vector<std::pair<SliceKey, double>> dropped;
  if (min_slice_size <= 0) return dropped;
  std::vector<SliceResult> kept;
  for (SliceResult& r : *slices) {
    if (!r.slice.overall() && r.example_count < static_cast<double>(min_slice_size)) {
      dropped.emplace_back(r.slice, r.example_count);
    } else {
      kept.push_back(std::move(r));
    }
  }
  *slices = std::move(kept);
  return dropped;
}

}  // namespace edgepipe::eval
