#include "train/distributed.h"

#include <cstdlib>

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "train/config.h"
#include "io/torch_compat.h"

namespace zoo {

namespace {

// An integer environment variable; `fallback` when unset or empty.
int env_int(const char* name, int fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  char* end = nullptr;
  const long v = std::strtol(value, &end, 10);
  if (*end != '\0' || v < 0 || v > 1 << 30)
    throw UserError(std::string("environment variable ") + name + "='" + value +
                    "' is not a non-negative integer");
  return static_cast<int>(v);
}

// Works with whichever class c10d's process groups derive from (ProcessGroup in LibTorch 1.x,
// Backend in 2.x): only allreduce/broadcast/barrier and Work::wait are used.
template <typename Group>
class C10dGroup final : public ProcessGroup {
 public:
  C10dGroup(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<Group> group, int rank, int size)
      : ProcessGroup(rank, size), store_(std::move(store)), group_(std::move(group)) {}

  void allreduce_sum(std::vector<torch::Tensor>& tensors) override {
    // One call per tensor, all in flight before the first wait: Gloo reduces them on its own
    // threads concurrently.
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& t : tensors) {
      std::vector<torch::Tensor> one{t};
      works.push_back(group_->allreduce(one));
    }
    for (auto& w : works) w->wait();
  }
  void broadcast(std::vector<torch::Tensor>& tensors, int root) override {
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& t : tensors) {
      std::vector<torch::Tensor> one{t};
      c10d::BroadcastOptions o;
      o.rootRank = root;
      works.push_back(group_->broadcast(one, o));
    }
    for (auto& w : works) w->wait();
  }
  void barrier() override { group_->barrier()->wait(); }

 private:
  c10::intrusive_ptr<c10d::Store> store_;  // kept alive: rank 0's store serves the others
  c10::intrusive_ptr<Group> group_;
};

// Groups consecutive tensors of one dtype and device into flat buckets of at most bucket_bytes.
std::vector<std::vector<torch::Tensor>> make_buckets(const std::vector<torch::Tensor>& tensors,
                                                     int64_t bucket_bytes) {
  std::vector<std::vector<torch::Tensor>> buckets;
  int64_t bytes = 0;
  for (const auto& t : tensors) {
    const int64_t size = t.numel() * static_cast<int64_t>(t.element_size());
    const bool fits = !buckets.empty() && buckets.back().front().scalar_type() == t.scalar_type() &&
                      buckets.back().front().device() == t.device() && bytes + size <= bucket_bytes;
    if (!fits) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(t);
    bytes += size;
  }
  return buckets;
}

template <typename Collective>
void bucketed(const std::vector<torch::Tensor>& tensors, int64_t bucket_bytes, Collective collective) {
  torch::NoGradGuard no_grad;
  std::vector<std::vector<torch::Tensor>> buckets = make_buckets(tensors, bucket_bytes);
  std::vector<torch::Tensor> flat;
  for (const auto& bucket : buckets) {
    std::vector<torch::Tensor> pieces;
    for (const auto& t : bucket) pieces.push_back(t.reshape(-1));
    flat.push_back(torch::cat(pieces));
  }
  collective(flat);
  for (size_t b = 0; b < buckets.size(); ++b) {
    int64_t offset = 0;
    for (auto& t : buckets[b]) {
      t.copy_(flat[b].narrow(0, offset, t.numel()).view_as(t));
      offset += t.numel();
    }
  }
}

}  // namespace

DistributedEnv distributed_env() {
  DistributedEnv env;
  env.world_size = env_int("WORLD_SIZE", 1);
  env.rank = env_int("RANK", 0);
  env.local_rank = env_int("LOCAL_RANK", env.rank);
  env.local_world_size = env_int("LOCAL_WORLD_SIZE", env.world_size);
  env.master_port = env_int("MASTER_PORT", env.master_port);
  if (const char* addr = std::getenv("MASTER_ADDR"); addr != nullptr && *addr != '\0') env.master_addr = addr;
  if (env.world_size < 1) throw UserError("environment variable WORLD_SIZE must be >= 1");
  if (env.rank >= env.world_size)
    throw UserError("environment variable RANK=" + std::to_string(env.rank) + " is not below WORLD_SIZE=" +
                    std::to_string(env.world_size));
  if (env.local_world_size < 1 || env.local_rank >= env.local_world_size)
    throw UserError("environment variable LOCAL_RANK=" + std::to_string(env.local_rank) +
                    " is not below LOCAL_WORLD_SIZE=" + std::to_string(env.local_world_size));
  if (env.master_port < 1 || env.master_port > 65535)
    throw UserError("environment variable MASTER_PORT=" + std::to_string(env.master_port) +
                    " is not a TCP port (1..65535)");
  return env;
}

std::unique_ptr<ProcessGroup> ProcessGroup::connect(const DistributedEnv& env, const torch::Device& device,
                                                    std::chrono::milliseconds timeout) {
  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<std::uint16_t>(env.master_port);
  store_options.isServer = env.rank == 0;
  store_options.numWorkers = static_cast<std::size_t>(env.world_size);
  store_options.waitWorkers = true;
  store_options.timeout = timeout;
  compat::use_classic_tcpstore(store_options);
  c10::intrusive_ptr<c10d::Store> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw UserError("rank " + std::to_string(env.rank) + ": cannot join the job at MASTER_ADDR:MASTER_PORT = " +
                    env.master_addr + ":" + std::to_string(env.master_port) + " (" +
                    what.substr(0, what.find('\n')) + ")");
  }
  if (device.is_cuda()) {
#ifdef USE_C10D_NCCL
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, env.rank, env.world_size, options);
    return std::make_unique<C10dGroup<c10d::ProcessGroupNCCL>>(store, group, env.rank, env.world_size);
#else
    throw UserError("train.device is CUDA but this build has no NCCL process group (configure with "
                    "-DZOO_WITH_NCCL=ON against a CUDA LibTorch)");
#endif
  }
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  // As torch.distributed: GLOO_SOCKET_IFNAME picks the network interface; otherwise the
  // address the master is reached by when that is this machine's loopback, else the hostname's.
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname != nullptr && *ifname != '\0')
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
  else if (env.master_addr.rfind("127.", 0) == 0 || env.master_addr == "localhost")
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(env.master_addr));
  else
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  options->threads = 2;
  auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world_size, options);
  return std::make_unique<C10dGroup<c10d::ProcessGroupGloo>>(store, group, env.rank, env.world_size);
}

void allreduce_sum_bucketed(ProcessGroup& group, const std::vector<torch::Tensor>& tensors, int64_t bucket_bytes) {
  bucketed(tensors, bucket_bytes, [&](std::vector<torch::Tensor>& flat) { group.allreduce_sum(flat); });
}

void broadcast_bucketed(ProcessGroup& group, const std::vector<torch::Tensor>& tensors, int root,
                        int64_t bucket_bytes) {
  bucketed(tensors, bucket_bytes, [&](std::vector<torch::Tensor>& flat) { group.broadcast(flat, root); });
}

void broadcast_module_state(ProcessGroup& group, torch::nn::Module& module) {
  std::vector<torch::Tensor> state = module.parameters();
  for (const auto& b : module.buffers()) state.push_back(b);
  broadcast_bucketed(group, state);
}

void broadcast_buffers(ProcessGroup& group, torch::nn::Module& module) {
  std::vector<torch::Tensor> buffers;
  for (const auto& b : module.buffers())
    if (b.is_floating_point()) buffers.push_back(b);
  if (!buffers.empty()) broadcast_bucketed(group, buffers);
}

}  // namespace zoo
