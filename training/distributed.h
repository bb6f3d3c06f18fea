// Data parallelism on torch's c10d, no home-made transport: a TCPStore rendezvous as
// torchrun's env:// (or its agent store), a ProcessGroupGloo on CPU and a
// ProcessGroupNCCL on CUDA. One `Dist` per process; world size 1 needs no store and makes
// every collective a no-op, so single-process code paths are the same code.
//
// Environments: torchrun (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT,
// TORCHELASTIC_USE_AGENT_STORE) and SLURM (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID,
// MASTER_ADDR or SLURM_LAUNCH_NODE_IPADDR, MASTER_PORT) as the fallback.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace lnb::training {

struct DistEnv {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  bool agent_store = false;      // torchrun's agent hosts the store: every rank is a client
  std::string restart_count = "0";
  std::string source = "single";  // "single" | "torchrun" | "slurm"
};

// Reads the environment through `getenv` (tests pass a map). Throws std::invalid_argument
// naming the variable when a value is malformed or inconsistent.
DistEnv dist_env_from(const std::function<const char*(const char*)>& getenv);
DistEnv dist_env();  // the process environment

class Dist {
 public:
  // world_size 1: no rendezvous. Otherwise joins the group (timeout in seconds).
  Dist(const DistEnv& env, const c10::Device& device, int timeout_s = 600);
  ~Dist();
  Dist(const Dist&) = delete;
  Dist& operator=(const Dist&) = delete;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  bool is_main() const { return env_.rank == 0; }
  const DistEnv& env() const { return env_; }
  std::string backend() const;  // "none" | "gloo" | "nccl"

  // Sum over ranks in place. Tensors are packed into flat buckets of at most
  // bucket_bytes per dtype (DDP's 25 MiB default) so each bucket is one collective.
  void all_reduce_sum(const std::vector<at::Tensor>& tensors, int64_t bucket_bytes = 25 << 20);
  // Scalars summed in one collective (fp64: counts stay exact below 2^53).
  std::vector<double> sum_scalars(std::vector<double> values);
  // Rank `root`'s tensor into every rank's (same shape and dtype).
  void broadcast(at::Tensor& tensor, int root = 0);
  void barrier();

 private:
  struct Impl;
  DistEnv env_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lnb::training
