#include "edgepipe/pipeline/component.h"

#include <utility>

namespace edgepipe::pipeline {

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
