#include "edgepipe/eval/result.h"

namespace edgepipe::eval {

std::string SliceKey::ToString() const {
  if (features.empty()) return "Overall";
  std::string out;
  for (const auto& [key, value] : features) {
    if (!out.empty()) out += ';';
    out += key;
    out += ':';
    out += value;
  }
  return out;
}

}  // namespace edgepipe::eval
