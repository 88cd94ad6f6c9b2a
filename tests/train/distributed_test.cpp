// The torchrun environment, and the bucketed collectives over a real 2-rank Gloo group (two
// threads of this process, each its own rank, on loopback).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <future>

#include "train/config.h"
#include "train/distributed.h"

namespace {

class EnvGuard {
 public:
  EnvGuard() {
    for (const char* name : kNames) ::unsetenv(name);
  }
  ~EnvGuard() {
    for (const char* name : kNames) ::unsetenv(name);
  }
  static constexpr const char* kNames[] = {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE",
                                           "MASTER_ADDR", "MASTER_PORT"};
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const zoo::UserError& e) {
    return e.what();
  }
  return "";
}

TEST(DistributedEnv, UnsetMeansOneProcess) {
  EnvGuard guard;
  const zoo::DistributedEnv env = zoo::distributed_env();
  EXPECT_EQ(env.world_size, 1);
  EXPECT_EQ(env.rank, 0);
  EXPECT_FALSE(env.enabled());
}

TEST(DistributedEnv, ReadsTheTorchrunVariables) {
  EnvGuard guard;
  ::setenv("WORLD_SIZE", "4", 1);
  ::setenv("RANK", "3", 1);
  ::setenv("LOCAL_RANK", "1", 1);
  ::setenv("LOCAL_WORLD_SIZE", "2", 1);
  ::setenv("MASTER_ADDR", "10.0.0.7", 1);
  ::setenv("MASTER_PORT", "1234", 1);
  const zoo::DistributedEnv env = zoo::distributed_env();
  EXPECT_TRUE(env.enabled());
  EXPECT_EQ(env.rank, 3);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.local_world_size, 2);
  EXPECT_EQ(env.master_addr, "10.0.0.7");
  EXPECT_EQ(env.master_port, 1234);
}

TEST(DistributedEnv, BadValuesNameTheVariable) {
  EnvGuard guard;
  ::setenv("WORLD_SIZE", "2", 1);
  ::setenv("RANK", "2", 1);
  EXPECT_NE(error_of([] { zoo::distributed_env(); }).find("RANK=2 is not below WORLD_SIZE=2"), std::string::npos);
  ::setenv("RANK", "1", 1);
  ::setenv("MASTER_PORT", "70000", 1);
  EXPECT_NE(error_of([] { zoo::distributed_env(); }).find("MASTER_PORT=70000"), std::string::npos);
  ::setenv("MASTER_PORT", "12ab", 1);
  EXPECT_NE(error_of([] { zoo::distributed_env(); }).find("MASTER_PORT='12ab'"), std::string::npos);
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Runs body(group) as ranks 0 and 1 on two threads.
void two_ranks(const std::function<void(zoo::ProcessGroup&)>& body) {
  const int port = free_port();
  auto rank = [&](int r) {
    zoo::DistributedEnv env;
    env.rank = env.local_rank = r;
    env.world_size = env.local_world_size = 2;
    env.master_port = port;
    auto group = zoo::ProcessGroup::connect(env, torch::kCPU, std::chrono::seconds(60));
    body(*group);
  };
  // std::async rather than std::thread: when a rank throws (e.g. it cannot create the store),
  // the test fails with that exception instead of std::terminate on a joinable thread.
  auto other = std::async(std::launch::async, rank, 1);
  rank(0);
  other.get();
}

// Tensors of three dtypes and awkward shapes, filled with (rank + 1) * (1 + position).
std::vector<torch::Tensor> rank_tensors(int rank) {
  std::vector<torch::Tensor> t = {torch::arange(7, torch::kFloat32).reshape({7}),
                                  torch::arange(12, torch::kFloat32).reshape({3, 4}),
                                  torch::arange(5, torch::kFloat64),
                                  torch::arange(3, torch::kInt64),
                                  torch::arange(64, torch::kFloat32).reshape({4, 4, 4})};
  for (auto& x : t) x = (x + 1) * (rank + 1);
  return t;
}

TEST(DistributedCollectives, BucketedAllReduceSumsEveryTensorInPlace) {
  std::vector<torch::Tensor> results[2];
  two_ranks([&](zoo::ProcessGroup& group) {
    auto t = rank_tensors(group.rank());
    // 40 bytes per bucket: most tensors get a bucket of their own, the small ones share one.
    zoo::allreduce_sum_bucketed(group, t, /*bucket_bytes=*/40);
    results[group.rank()] = t;
  });
  const auto expected = rank_tensors(0);
  for (int r = 0; r < 2; ++r)
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(results[r][i].scalar_type(), expected[i].scalar_type());
      EXPECT_TRUE(torch::equal(results[r][i], expected[i] * 3)) << "rank " << r << " tensor " << i;
    }
}

TEST(DistributedCollectives, ModuleStateFollowsRankZero) {
  torch::nn::Sequential nets[2] = {torch::nn::Sequential(torch::nn::Linear(3, 4), torch::nn::BatchNorm1d(4)),
                                   torch::nn::Sequential(torch::nn::Linear(3, 4), torch::nn::BatchNorm1d(4))};
  {
    torch::NoGradGuard no_grad;
    nets[1]->buffers()[0].fill_(5.0);  // rank 1's running mean differs
  }
  ASSERT_FALSE(torch::equal(nets[0]->parameters()[0], nets[1]->parameters()[0]));
  two_ranks([&](zoo::ProcessGroup& group) { zoo::broadcast_module_state(group, *nets[group.rank()]); });
  for (size_t i = 0; i < nets[0]->parameters().size(); ++i)
    EXPECT_TRUE(torch::equal(nets[0]->parameters()[i], nets[1]->parameters()[i]));
  for (size_t i = 0; i < nets[0]->buffers().size(); ++i)
    EXPECT_TRUE(torch::equal(nets[0]->buffers()[i], nets[1]->buffers()[i]));
}

}  // namespace
