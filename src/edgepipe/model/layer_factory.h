// Rebuilds nn layers from their Keras class name and Config() JSON, so that a
// saved model loads with no user code.
//
//   ASSIGN_OR_RETURN(std::shared_ptr<nn::Layer> l, CreateLayer("Dense", dense.Config()));
//
// The result is unbuilt and unnamed-free: it carries the config's "name".
// Fields absent from a config take the Keras default (e.g. "activation"
// linear, "use_bias" true); fields of the wrong type, unknown class names and
// unsupported values (data_format other than channels_last, BatchNormalization
// axis other than -1) are InvalidArgument errors naming `where`, the class
// and the field. Thread-safe.
#ifndef EDGEPIPE_MODEL_LAYER_FACTORY_H_
#define EDGEPIPE_MODEL_LAYER_FACTORY_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/status.h"
#include "edgepipe/model/json_util.h"
#include "edgepipe/nn/layer.h"

namespace edgepipe::model {

// A new layer of Keras class `class_name` with `config`; `where` prefixes
// error messages (e.g. "saved_model.json: model.layers[3]").
Result<std::shared_ptr<nn::Layer>> CreateLayer(std::string_view class_name, const Json& config,
                                               std::string_view where = "layer");

// The class names CreateLayer accepts, sorted.
std::vector<std::string> KnownLayerClasses();

}  // namespace edgepipe::model

#endif  // EDGEPIPE_MODEL_LAYER_FACTORY_H_
