#include "ember/engine/node.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "engine_context.hpp"
#include "function_pool.hpp"

namespace ember::engine {

using runtime_api::InvocationType;
using runtime_api::InvokeResult;
using runtime_api::ServiceError;

Node::Node(boost::asio::any_io_executor executor, config::Config config, Backends backends,
           NodeOptions options)
    : config_(std::move(config)), backends_(std::move(backends)) {
  context_ = std::make_unique<EngineContext>(EngineContext{
      executor, backends_.native.get(), *backends_.process, config_.node,
      std::move(options.runtimes_dir), config_.node.state_dir / "logs", std::move(options.echo)});
  for (const auto& function : config_.functions) {
    pools_.emplace(function.name, std::make_shared<FunctionPool>(*context_, function));
  }
}

Node::~Node() { shutdown(); }

std::size_t Node::worker_count(std::string_view function) const {
  const auto it = pools_.find(function);
  return it == pools_.end() ? 0 : it->second->worker_count();
}

std::size_t Node::live_workers() const { return *context_->live_workers; }

boost::asio::awaitable<InvokeResult> Node::invoke(runtime_api::InvokeRequest request) {
  InvokeResult refusal;
  const auto& node = config_.node;
  const auto& ref = request.function;
  const auto arn =
      runtime_api::function_arn(ref.region.value_or(node.region),
                                ref.account_id.value_or(node.account_id), ref.name, ref.qualifier);
  if (shutting_down_) {
    refusal.service_error = ServiceError::kServiceUnavailable;
    refusal.message = "The node is shutting down";
    co_return refusal;
  }
  const auto it = pools_.find(ref.name);
  const bool other_node = (ref.region && *ref.region != node.region) ||
                          (ref.account_id && *ref.account_id != node.account_id);
  // Only $LATEST exists until versions and aliases are published.
  const bool unknown_qualifier = ref.qualifier && *ref.qualifier != "$LATEST";
  if (it == pools_.end() || other_node || unknown_qualifier) {
    refusal.service_error = ServiceError::kResourceNotFound;
    refusal.message = "Function not found: " + arn;
    co_return refusal;
  }
  if (request.type == InvocationType::kDryRun) {
    refusal.dry_run = true;
    co_return refusal;
  }
  if (request.type == InvocationType::kEvent) {
    refusal.service_error = ServiceError::kInvalidParameterValue;
    refusal.message =
        "Asynchronous invocation (X-Amz-Invocation-Type: Event) is not enabled on this node; "
        "invoke with RequestResponse";
    co_return refusal;
  }

  auto invocation = std::make_shared<Invocation>(context_->executor, std::move(request), arn);
  if (auto rejected = it->second->admit(invocation)) co_return std::move(*rejected);
  auto [ec, result] =
      co_await invocation->done().async_receive(boost::asio::as_tuple(boost::asio::use_awaitable));
  if (ec) {
    result = InvokeResult{};
    result.service_error = ServiceError::kService;
    result.message = "Invocation " + invocation->id() + " was abandoned: " + ec.message();
  }
  co_return std::move(result);
}

void Node::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  for (auto& [name, pool] : pools_) pool->shutdown();
}

}  // namespace ember::engine
