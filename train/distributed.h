#pragma once
// Data-parallel training on c10d, the engine under PyTorch's DistributedDataParallel: Gloo on
// CPU, NCCL on CUDA (where LibTorch was built with it), rendezvous through a TCPStore. The c10d
// and Gloo headers stay inside distributed.cpp.
#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace zoo {

// The torchrun convention. With none of the variables set the program is one process
// (world_size 1); with WORLD_SIZE > 1 it is one rank of a job.
struct DistributedEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;       // ranks on this machine (LOCAL_WORLD_SIZE, else WORLD_SIZE)
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  bool enabled() const { return world_size > 1; }
};

// Reads RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT. A malformed or
// inconsistent value is a UserError naming the variable.
DistributedEnv distributed_env();

class ProcessGroup {
 public:
  // Joins the job: rank 0 hosts the TCPStore at MASTER_ADDR:MASTER_PORT, the others connect
  // (each waits up to `timeout` for the rest). Gloo for a CPU device, NCCL for CUDA.
  static std::unique_ptr<ProcessGroup> connect(const DistributedEnv& env, const torch::Device& device,
                                               std::chrono::milliseconds timeout);
  virtual ~ProcessGroup() = default;
  int rank() const { return rank_; }
  int world_size() const { return world_size_; }

  // Collectives on dense contiguous tensors, in place; every rank must call them in the same
  // order with tensors of the same shapes. The tensors of one call are reduced concurrently.
  virtual void allreduce_sum(std::vector<torch::Tensor>& tensors) = 0;
  virtual void broadcast(std::vector<torch::Tensor>& tensors, int root) = 0;
  virtual void barrier() = 0;

 protected:
  ProcessGroup(int rank, int world_size) : rank_(rank), world_size_(world_size) {}

 private:
  int rank_, world_size_;
};

// DDP's bucketing: the tensors are copied into flat buckets of at most `bucket_bytes` (one dtype
// and device each), all buckets are reduced concurrently, and the results copied back — a few
// large messages instead of one per parameter.
constexpr int64_t kDefaultBucketBytes = 25 << 20;  // DDP's bucket_cap_mb = 25
void allreduce_sum_bucketed(ProcessGroup& group, const std::vector<torch::Tensor>& tensors,
                            int64_t bucket_bytes = kDefaultBucketBytes);
void broadcast_bucketed(ProcessGroup& group, const std::vector<torch::Tensor>& tensors, int root = 0,
                        int64_t bucket_bytes = kDefaultBucketBytes);

// Rank 0's parameters and buffers to every rank (DDP's initial broadcast).
void broadcast_module_state(ProcessGroup& group, torch::nn::Module& module);
// Rank 0's floating-point buffers (BatchNorm running statistics) to every rank, as DDP does
// before each forward (broadcast_buffers=True); a no-op for a model without buffers.
void broadcast_buffers(ProcessGroup& group, torch::nn::Module& module);

}  // namespace zoo
