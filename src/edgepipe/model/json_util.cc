#include "edgepipe/model/json_util.h"

namespace edgepipe::model {
namespace {

Status TypeError(std::string_view key, std::string_view where, std::string_view what) {
  return Status::InvalidArgument(std::string(where) + ": field \"" + std::string(key) +
                                 "\" must be " + std::string(what));
}

}  // namespace

Result<const Json*> JsonMember(const Json& obj, std::string_view key, std::string_view where) {
  if (!obj.is_object()) {
    return Status::InvalidArgument(std::string(where) + ": must be a JSON object");
  }
  auto it = obj.find(key);
  if (it == obj.end()) {
    return Status::InvalidArgument(std::string(where) + ": field \"" + std::string(key) +
                                   "\" is missing");
  }
  return &*it;
}

Result<std::string> JsonString(const Json& obj, std::string_view key, std::string_view where) {
  ASSIGN_OR_RETURN(const Json* v, JsonMember(obj, key, where));
  if (!v->is_string()) return TypeError(key, where, "a string");
  return v->get<std::string>();
}

Result<int64_t> JsonInt(const Json& obj, std::string_view key, std::string_view where) {
  ASSIGN_OR_RETURN(const Json* v, JsonMember(obj, key, where));
  if (!v->is_number_integer()) return TypeError(key, where, "an integer");
  return v->get<int64_t>();
}

Result<double> JsonNumber(const Json& obj, std::string_view key, std::string_view where) {
  ASSIGN_OR_RETURN(const Json* v, JsonMember(obj, key, where));
  if (!v->is_number()) return TypeError(key, where, "a number");
  return v->get<double>();
}

Result<bool> JsonBool(const Json& obj, std::string_view key, std::string_view where) {
  ASSIGN_OR_RETURN(const Json* v, JsonMember(obj, key, where));
  if (!v->is_boolean()) return TypeError(key, where, "true or false");
  return v->get<bool>();
}

Result<std::vector<int64_t>> JsonIntList(const Json& obj, std::string_view key,
                                         std::string_view where, bool null_as_minus_one) {
  ASSIGN_OR_RETURN(const Json* v, JsonMember(obj, key, where));
  if (!v->is_array()) return TypeError(key, where, "a list of integers");
  std::vector<int64_t> out;
  for (const Json& e : *v) {
    if (e.is_null() && null_as_minus_one) {
      out.push_back(-1);
    } else if (e.is_number_integer()) {
      out.push_back(e.get<int64_t>());
    } else {
      return TypeError(key, where, "a list of integers");
    }
  }
  return out;
}

Result<const Json*> JsonArray(const Json& obj, std::string_view key, std::string_view where) {
  ASSIGN_OR_RETURN(const Json* v, JsonMember(obj, key, where));
  if (!v->is_array()) return TypeError(key, where, "a list");
  return v;
}

Result<const Json*> JsonObject(const Json& obj, std::string_view key, std::string_view where) {
  ASSIGN_OR_RETURN(const Json* v, JsonMember(obj, key, where));
  if (!v->is_object()) return TypeError(key, where, "an object");
  return v;
}

Result<std::string> JsonStringOr(const Json& obj, std::string_view key, std::string fallback,
                                 std::string_view where) {
  if (obj.is_object() && !obj.contains(key)) return fallback;
  return JsonString(obj, key, where);
}

Result<bool> JsonBoolOr(const Json& obj, std::string_view key, bool fallback,
                        std::string_view where) {
  if (obj.is_object() && !obj.contains(key)) return fallback;
  return JsonBool(obj, key, where);
}

}  // namespace edgepipe::model
