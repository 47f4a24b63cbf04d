#include "edgepipe/model/layer_factory.h"

#include <algorithm>
#include <functional>
#include <map>

#include "edgepipe/nn/conv_layers.h"
#include "edgepipe/nn/core_layers.h"

namespace edgepipe::model {
namespace {

namespace L = nn::layers;
using LayerPtr = std::shared_ptr<nn::Layer>;
using Builder = std::function<Result<LayerPtr>(const Json&, const std::string&, std::string&&)>;

// Keras writes 2-D sizes as [h, w]; a single integer means a square.
Result<L::Size2> GetSize2(const Json& c, std::string_view key, const std::string& where) {
  ASSIGN_OR_RETURN(const Json* v, JsonMember(c, key, where));
  if (v->is_number_integer()) return L::Size2(v->get<int64_t>());
  ASSIGN_OR_RETURN(std::vector<int64_t> hw, JsonIntList(c, key, where));
  if (hw.size() != 2) {
    return Status::InvalidArgument(where + ": field \"" + std::string(key) +
                                   "\" must be an integer or [height, width]");
  }
  return L::Size2(hw[0], hw[1]);
}

Status CheckChannelsLast(const Json& c, const std::string& where) {
  ASSIGN_OR_RETURN(std::string f, JsonStringOr(c, "data_format", "channels_last", where));
  if (f != "channels_last") {
    return Status::InvalidArgument(where + ": data_format \"" + f +
                                   "\" is not supported (only channels_last)");
  }
  return Status::Ok();
}

float F(double d) { return static_cast<float>(d); }

template <typename T, typename... Args>
Result<LayerPtr> Make(Args&&... args) {
  return LayerPtr(std::make_shared<T>(std::forward<Args>(args)...));
}

const std::map<std::string, Builder, std::less<>>& Builders() {
  static const auto* builders = new std::map<std::string, Builder, std::less<>>{
      {"InputLayer",
       [](const Json& c, const std::string& w, std::string&& name) -> Result<LayerPtr> {
         ASSIGN_OR_RETURN(std::vector<int64_t> s, JsonIntList(c, "batch_input_shape", w, true));
         if (s.empty()) return Status::InvalidArgument(w + ": batch_input_shape is empty");
         ASSIGN_OR_RETURN(std::string dtype, JsonStringOr(c, "dtype", "float32", w));
         if (dtype != "float32") {
           return Status::InvalidArgument(w + ": dtype \"" + dtype +
                                          "\" is not supported (only float32)");
         }
         return Make<L::InputLayer>(nn::Shape(s.begin() + 1, s.end()), std::move(name));
       }},
      {"Dense",
       [](const Json& c, const std::string& w, std::string&& name) -> Result<LayerPtr> {
         ASSIGN_OR_RETURN(int64_t units, JsonInt(c, "units", w));
         ASSIGN_OR_RETURN(std::string act, JsonStringOr(c, "activation", "linear", w));
         ASSIGN_OR_RETURN(bool bias, JsonBoolOr(c, "use_bias", true, w));
         return Make<L::Dense>(units,
                               L::DenseOptions{.activation = act, .use_bias = bias, .name = name});
       }},
      {"Dropout",
       [](const Json& c, const std::string& w, std::string&& name) -> Result<LayerPtr> {
         ASSIGN_OR_RETURN(double rate, JsonNumber(c, "rate", w));
         return Make<L::Dropout>(F(rate), std::move(name));
       }},
      {"Activation",
       [](const Json& c, const std::string& w, std::string&& name) -> Result<LayerPtr> {
         ASSIGN_OR_RETURN(std::string act, JsonString(c, "activation", w));
         return Make<L::Activation>(act, std::move(name));
       }},
      {"ReLU",
       [](const Json& c, const std::string& w, std::string&& name) -> Result<LayerPtr> {
         std::optional<float> max_value;
         if (c.contains("max_value") && !c["max_value"].is_null()) {
           ASSIGN_OR_RETURN(double m, JsonNumber(c, "max_value", w));
           max_value = F(m);
         }
         return Make<L::ReLU>(max_value, std::move(name));
       }},
      {"Softmax",
       [](const Json&, const std::string&, std::string&& name) -> Result<LayerPtr> {
         return Make<L::Softmax>(std::move(name));
       }},
      {"Flatten",
       [](const Json&, const std::string&, std::string&& name) -> Result<LayerPtr> {
         return Make<L::Flatten>(std::move(name));
       }},
      {"Reshape",
       [](const Json& c, const std::string& w, std::string&& name) -> Result<LayerPtr> {
         ASSIGN_OR_RETURN(std::vector<int64_t> t, JsonIntList(c, "target_shape", w));
         return Make<L::Reshape>(nn::Shape(t), std::move(name));
       }},
      {"Add",
       [](const Json&, const std::string&, std::string&& name) -> Result<LayerPtr> {
         return Make<L::AddLayer>(std::move(name));
       }},
      {"Concatenate",
       [](const Json& c, const std::string& w, std::string&& name) -> Result<LayerPtr> {
         ASSIGN_OR_RETURN(int64_t axis, JsonInt(c, "axis", w));
         return Make<L::Concatenate>(static_cast<int>(axis), std::move(name));
       }},
      {"Rescaling",
       [](const Json& c, const std::string& w, std::string&& name) -> Result<LayerPtr> {
         ASSIGN_OR_RETURN(double scale, JsonNumber(c, "scale", w));
         double offset = 0.0;
         if (c.contains("offset")) {
           ASSIGN_OR_RETURN(offset, JsonNumber(c, "offset", w));
         }
         return Make<L::Rescaling>(F(scale), F(offset), std::move(name));
       }},
      {"Normalization",
       [](const Json&, const std::string&, std::string&& name) -> Result<LayerPtr> {
         return Make<L::Normalization>(std::move(name));
       }},
      {"Conv2D",
       [](const Json& c, const std::string& w, std::string&& name) -> Result<LayerPtr> {
         RETURN_IF_ERROR(CheckChannelsLast(c, w));
         ASSIGN_OR_RETURN(int64_t filters, JsonInt(c, "filters", w));
         ASSIGN_OR_RETURN(L::Size2 k, GetSize2(c, "kernel_size", w));
         L::Conv2DOptions o;
         if (c.contains("strides")) {
           ASSIGN_OR_RETURN(o.strides, GetSize2(c, "strides", w));
         }
         ASSIGN_OR_RETURN(o.padding, JsonStringOr(c, "padding", "valid", w));
         ASSIGN_OR_RETURN(o.activation, JsonStringOr(c, "activation", "linear", w));
         ASSIGN_OR_RETURN(o.use_bias, JsonBoolOr(c, "use_bias", true, w));
         o.name = std::move(name);
         return Make<L::Conv2D>(filters, k, o);
       }},
      {"DepthwiseConv2D",
       [](const Json& c, const std::string& w, std::string&& name) -> Result<LayerPtr> {
         RETURN_IF_ERROR(CheckChannelsLast(c, w));
         ASSIGN_OR_RETURN(L::Size2 k, GetSize2(c, "kernel_size", w));
         L::DepthwiseConv2DOptions o;
         if (c.contains("strides")) {
           ASSIGN_OR_RETURN(o.strides, GetSize2(c, "strides", w));
         }
         ASSIGN_OR_RETURN(o.padding, JsonStringOr(c, "padding", "valid", w));
         if (c.contains("depth_multiplier")) {
           ASSIGN_OR_RETURN(o.depth_multiplier, JsonInt(c, "depth_multiplier", w));
         }
         ASSIGN_OR_RETURN(o.activation, JsonStringOr(c, "activation", "linear", w));
         ASSIGN_OR_RETURN(o.use_bias, JsonBoolOr(c, "use_bias", true, w));
         o.name = std::move(name);
         return Make<L::DepthwiseConv2D>(k, o);
       }},
      {"MaxPooling2D",
       [](const Json& c, const std::string& w, std::string&& name) -> Result<LayerPtr> {
         RETURN_IF_ERROR(CheckChannelsLast(c, w));
         ASSIGN_OR_RETURN(L::Size2 pool, GetSize2(c, "pool_size", w));
         std::optional<L::Size2> strides;
         if (c.contains("strides") && !c["strides"].is_null()) {
           ASSIGN_OR_RETURN(strides, GetSize2(c, "strides", w));
         }
         ASSIGN_OR_RETURN(std::string pad, JsonStringOr(c, "padding", "valid", w));
         return Make<L::MaxPooling2D>(pool, strides, pad, std::move(name));
       }},
      {"AveragePooling2D",
       [](const Json& c, const std::string& w, std::string&& name) -> Result<LayerPtr> {
         RETURN_IF_ERROR(CheckChannelsLast(c, w));
         ASSIGN_OR_RETURN(L::Size2 pool, GetSize2(c, "pool_size", w));
         std::optional<L::Size2> strides;
         if (c.contains("strides") && !c["strides"].is_null()) {
           ASSIGN_OR_RETURN(strides, GetSize2(c, "strides", w));
         }
         ASSIGN_OR_RETURN(std::string pad, JsonStringOr(c, "padding", "valid", w));
         return Make<L::AveragePooling2D>(pool, strides, pad, std::move(name));
       }},
      {"GlobalAveragePooling2D",
       [](const Json& c, const std::string& w, std::string&& name) -> Result<LayerPtr> {
         RETURN_IF_ERROR(CheckChannelsLast(c, w));
         return Make<L::GlobalAveragePooling2D>(std::move(name));
       }},
      {"BatchNormalization",
       [](const Json& c, const std::string& w, std::string&& name) -> Result<LayerPtr> {
         if (c.contains("axis")) {
           ASSIGN_OR_RETURN(int64_t axis, JsonInt(c, "axis", w));
           if (axis != -1) {
             return Status::InvalidArgument(w + ": axis " + std::to_string(axis) +
                                            " is not supported (only -1)");
           }
         }
         L::BatchNormalizationOptions o;
         if (c.contains("momentum")) {
           ASSIGN_OR_RETURN(double m, JsonNumber(c, "momentum", w));
           o.momentum = F(m);
         }
         if (c.contains("epsilon")) {
           ASSIGN_OR_RETURN(double e, JsonNumber(c, "epsilon", w));
           o.epsilon = F(e);
         }
         ASSIGN_OR_RETURN(o.center, JsonBoolOr(c, "center", true, w));
         ASSIGN_OR_RETURN(o.scale, JsonBoolOr(c, "scale", true, w));
         o.name = std::move(name);
         return Make<L::BatchNormalization>(o);
       }},
  };
  return *builders;
}

}  // namespace

Result<std::shared_ptr<nn::Layer>> CreateLayer(std::string_view class_name, const Json& config,
                                               std::string_view where) {
  const std::string w = std::string(where) + " (" + std::string(class_name) + ")";
  auto it = Builders().find(class_name);
  if (it == Builders().end()) {
    std::string known;
    for (const std::string& k : KnownLayerClasses()) known += (known.empty() ? "" : ", ") + k;
    return Status::InvalidArgument(std::string(where) + ": unknown layer class \"" +
                                   std::string(class_name) + "\" (known: " + known + ")");
  }
  ASSIGN_OR_RETURN(std::string name, JsonString(config, "name", w));
  if (name.empty()) return Status::InvalidArgument(w + ": field \"name\" is empty");
  ASSIGN_OR_RETURN(LayerPtr layer, it->second(config, w, std::string(name)));
  // Sigmoid / Tanh are Activation layers; a name set here is never auto-named.
  layer->set_name(name);
  return layer;
}

std::vector<std::string> KnownLayerClasses() {
  std::vector<std::string> out;
  for (const auto& [k, v] : Builders()) out.push_back(k);
  return out;
}

}  // namespace edgepipe::model
