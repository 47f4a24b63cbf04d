#include "edgepipe/data/example_util.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace edgepipe::data {
namespace {

tf::Feature* Replace(tf::Example* ex, std::string_view name) {
  tf::Feature& f = (*ex->mutable_features()->mutable_feature())[std::string(name)];
  f.Clear();
  return &f;
}

std::string SortedNames(const tf::Example& ex) {
  std::vector<std::string_view> names;
  for (const auto& [name, feature] : ex.features().feature()) names.push_back(name);
  std::sort(names.begin(), names.end());
  if (names.empty()) return "(none)";
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  return out;
}

Status WrongKind(std::string_view name, const tf::Feature& f, std::string_view want) {
  return Status::InvalidArgument("feature \"" + std::string(name) + "\" is " +
                                 std::string(FeatureKindName(f)) + ", expected " +
                                 std::string(want));
}

void AppendFloat(float v, std::string* out) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, ec == std::errc() ? end : buf);
}

void AppendInt(int64_t v, std::string* out) { out->append(std::to_string(v)); }

// "[n] = "
void AppendCount(int n, std::string* out) {
  out->push_back('[');
  out->append(std::to_string(n));
  out->append("] = ");
}

void AppendQuoted(const std::string& s, int max_chars, std::string* out) {
  out->push_back('"');
  const size_t n = std::min(s.size(), static_cast<size_t>(std::max(max_chars, 0)));
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          *out += buf;
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
  if (n < s.size()) *out += "...";
}

// "[a, b, c, ..., x, y, z]" keeping `edge` values at each end.
template <typename List, typename Append>
void AppendList(const List& values, int edge, Append append, std::string* out) {
  const size_t n = static_cast<size_t>(values.size());
  const size_t e = static_cast<size_t>(std::max(edge, 1));
  out->push_back('[');
  for (size_t i = 0; i < n; ++i) {
    if (n > 2 * e && i == e) {
      *out += "..., ";
      i = n - e;
    }
    append(values[static_cast<int>(i)], out);
    if (i + 1 < n) *out += ", ";
  }
  out->push_back(']');
}

}  // namespace

void SetFloats(tf::Example* ex, std::string_view name, std::span<const float> values) {
  auto* list = Replace(ex, name)->mutable_float_list()->mutable_value();
  list->Add(values.begin(), values.end());
}

void SetInt64s(tf::Example* ex, std::string_view name, std::span<const int64_t> values) {
  auto* list = Replace(ex, name)->mutable_int64_list()->mutable_value();
  list->Add(values.begin(), values.end());
}

void SetBytes(tf::Example* ex, std::string_view name, std::span<const std::string> values) {
  auto* list = Replace(ex, name)->mutable_bytes_list();
  for (const std::string& v : values) list->add_value(v);
}

void SetBytes(tf::Example* ex, std::string_view name, std::span<const std::string_view> values) {
  auto* list = Replace(ex, name)->mutable_bytes_list();
  for (std::string_view v : values) list->add_value(std::string(v));
}

Result<const tf::Feature*> GetFeature(const tf::Example& ex, std::string_view name) {
  const auto& map = ex.features().feature();
  auto it = map.find(std::string(name));
  if (it == map.end()) {
    return Status::NotFound("feature \"" + std::string(name) +
                            "\" not found; available: " + SortedNames(ex));
  }
  return &it->second;
}

Result<std::span<const float>> GetFloats(const tf::Example& ex, std::string_view name) {
  ASSIGN_OR_RETURN(const tf::Feature* f, GetFeature(ex, name));
  if (!f->has_float_list()) return WrongKind(name, *f, "float");
  const auto& v = f->float_list().value();
  return std::span<const float>(v.data(), static_cast<size_t>(v.size()));
}

Result<std::span<const int64_t>> GetInt64s(const tf::Example& ex, std::string_view name) {
  ASSIGN_OR_RETURN(const tf::Feature* f, GetFeature(ex, name));
  if (!f->has_int64_list()) return WrongKind(name, *f, "int64");
  const auto& v = f->int64_list().value();
  return std::span<const int64_t>(v.data(), static_cast<size_t>(v.size()));
}

Result<std::vector<std::string_view>> GetBytes(const tf::Example& ex, std::string_view name) {
  ASSIGN_OR_RETURN(const tf::Feature* f, GetFeature(ex, name));
  if (!f->has_bytes_list()) return WrongKind(name, *f, "bytes");
  std::vector<std::string_view> out;
  out.reserve(static_cast<size_t>(f->bytes_list().value_size()));
  for (const std::string& v : f->bytes_list().value()) out.emplace_back(v);
  return out;
}

std::string SerializeDeterministic(const tf::Example& ex) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    ex.SerializeToCodedStream(&coded);
  }
  return out;
}

std::string_view FeatureKindName(const tf::Feature& feature) {
  switch (feature.kind_case()) {
    case tf::Feature::kFloatList:
      return "float";
    case tf::Feature::kInt64List:
      return "int64";
    case tf::Feature::kBytesList:
      return "bytes";
    default:
      return "empty";
  }
}

std::string FormatExample(const tf::Example& ex, const ExampleFormatOptions& options) {
  std::vector<std::pair<std::string_view, const tf::Feature*>> features;
  for (const auto& [name, feature] : ex.features().feature()) features.emplace_back(name, &feature);
  std::sort(features.begin(), features.end());
  std::string out;
  for (const auto& [name, f] : features) {
    out.append(name);
    out += ": ";
    out += FeatureKindName(*f);
    switch (f->kind_case()) {
      case tf::Feature::kFloatList: {
        const auto& v = f->float_list().value();
        AppendCount(v.size(), &out);
        AppendList(v, options.edge_values, AppendFloat, &out);
        break;
      }
      case tf::Feature::kInt64List: {
        const auto& v = f->int64_list().value();
        AppendCount(v.size(), &out);
        AppendList(v, options.edge_values, AppendInt, &out);
        break;
      }
      case tf::Feature::kBytesList: {
        const auto& v = f->bytes_list().value();
        AppendCount(v.size(), &out);
        const int max_chars = options.max_bytes_chars;
        AppendList(
            v, options.edge_values,
            [max_chars](const std::string& s, std::string* o) { AppendQuoted(s, max_chars, o); },
            &out);
        break;
      }
      default:
        out += "[0] = []";
    }
    out.push_back('\n');
  }
  return out;
}

}  // namespace edgepipe::data
