// Typed, non-throwing access to JSON read from files (saved_model.json).
//
// nlohmann::json throws on a type mismatch; these helpers return an
// InvalidArgument Status instead, naming `where` (e.g.
// "m/saved_model.json: model.layers[2]"), the field and the rule:
//   m/saved_model.json: model.layers[2]: field "units" must be an integer
// All functions are thread-safe (no shared state).
#ifndef EDGEPIPE_MODEL_JSON_UTIL_H_
#define EDGEPIPE_MODEL_JSON_UTIL_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/status.h"

namespace edgepipe::model {

using Json = nlohmann::json;

// The member `key` of the object `obj`; fails when `obj` is not an object or
// the member is missing. The pointer refers into `obj`.
Result<const Json*> JsonMember(const Json& obj, std::string_view key, std::string_view where);
Result<std::string> JsonString(const Json& obj, std::string_view key, std::string_view where);
Result<int64_t> JsonInt(const Json& obj, std::string_view key, std::string_view where);
Result<double> JsonNumber(const Json& obj, std::string_view key, std::string_view where);
Result<bool> JsonBool(const Json& obj, std::string_view key, std::string_view where);
// A list of integers; null elements read as -1 (Keras' None) when
// `null_as_minus_one`, else they are an error.
Result<std::vector<int64_t>> JsonIntList(const Json& obj, std::string_view key,
                                         std::string_view where, bool null_as_minus_one = false);
// Members that must be an array / an object.
Result<const Json*> JsonArray(const Json& obj, std::string_view key, std::string_view where);
Result<const Json*> JsonObject(const Json& obj, std::string_view key, std::string_view where);

// Optional members: `fallback` when absent, an error when of the wrong type.
Result<std::string> JsonStringOr(const Json& obj, std::string_view key, std::string fallback,
                                 std::string_view where);
Result<bool> JsonBoolOr(const Json& obj, std::string_view key, bool fallback,
                        std::string_view where);

}  // namespace edgepipe::model

#endif  // EDGEPIPE_MODEL_JSON_UTIL_H_
