#include "edgepipe/pipeline/component.h"

#include <cstdio>
#include <utility>

namespace edgepipe::pipeline {
namespace {

ParamType TypeOf(const Value& v) {
  if (std::holds_alternative<int64_t>(v)) return ParamType::kInt;
  if (std::holds_alternative<double>(v)) return ParamType::kDouble;
  return ParamType::kString;
}

// A value as a message shows it: 5, 0.25, "text".
std::string Show(const Value& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.17g", *d);
    return buf;
  }
  return "\"" + std::get<std::string>(v) + "\"";
}

}  // namespace

std::string_view ParamTypeName(ParamType type) {
  switch (type) {
    case ParamType::kInt:
      return "int";
    case ParamType::kDouble:
      return "double";
    case ParamType::kString:
      return "string";
  }
  return "?";
}

Status ValidateParams(const ComponentSpec& spec, const Params& params,
                      std::string_view component_id) {
  const std::string where(component_id);
  for (const auto& [name, value] : params) {
    const ParamSpec* ps = nullptr;
    for (const ParamSpec& p : spec.params) {
      if (p.name == name) ps = &p;
    }
    if (ps == nullptr) {
      std::string known;
      for (const ParamSpec& p : spec.params) known += (known.empty() ? "" : ", ") + p.name;
      return Status::InvalidArgument(where + ": unknown parameter \"" + name +
                                     "\" = " + Show(value) + " (" + spec.type +
                                     " has: " + (known.empty() ? "none" : known) + ")");
    }
    if (TypeOf(value) != ps->type) {
      return Status::InvalidArgument(where + ": parameter \"" + name + "\" = " + Show(value) +
                                     " is " + std::string(ParamTypeName(TypeOf(value))) +
                                     ", must be " + std::string(ParamTypeName(ps->type)));
    }
  }
  for (const ParamSpec& p : spec.params) {
    if (p.required && params.find(p.name) == params.end()) {
      return Status::InvalidArgument(where + ": required parameter \"" + p.name + "\" (" +
                                     std::string(ParamTypeName(p.type)) + ") is missing");
    }
  }
  return Status::Ok();
}

Result<Params> ResolveParams(const ComponentSpec& spec, const Params& params,
                             std::string_view component_id) {
  Params resolved = params;
  for (const ParamSpec& p : spec.params) {
    auto it = resolved.find(p.name);
    if (it == resolved.end()) {
      if (p.default_value.has_value()) resolved.emplace(p.name, *p.default_value);
      continue;
    }
    if (p.type == ParamType::kDouble && std::holds_alternative<int64_t>(it->second)) {
      it->second = static_cast<double>(std::get<int64_t>(it->second));
    }
  }
  RETURN_IF_ERROR(ValidateParams(spec, resolved, component_id));
  return resolved;
}

Node::Node(ComponentSpec spec, ExecutorFactory make_executor, Params params,
           std::map<std::string, Channel, std::less<>> inputs)
    : data_(std::make_shared<NodeData>()) {
  data_->id = spec.type;
  data_->spec = std::move(spec);
  data_->make_executor = std::move(make_executor);
  data_->params = std::move(params);
  data_->inputs = std::move(inputs);
}

Node& Node::WithId(std::string id) {
  data_->id = std::move(id);
  return *this;
}

Channel Node::Outputs::operator[](std::string_view key) const {
  Channel channel{node_, std::string(key), ""};
  for (const ChannelSpec& out : node_->spec.outputs) {
    if (out.key == key) channel.type = out.type;
  }
  return channel;
}

}  // namespace edgepipe::pipeline
