// See distributed.h.
#include "training/distributed.h"

#include <cstdlib>
#include <stdexcept>

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(LNB_HAVE_GLOO)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if defined(LNB_WITH_CUDA_SOURCES) && defined(USE_C10D_NCCL)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#define LNB_HAVE_NCCL 1
#endif

namespace lnb::training {
namespace {

int parse_int(const char* name, const char* value, int lo, int hi) {
  char* end = nullptr;
  const long v = std::strtol(value, &end, 10);
  if (end == value || *end != '\0' || v < lo || v > hi)
    throw std::invalid_argument(std::string("environment variable ") + name + ": expected an integer in [" +
                                std::to_string(lo) + ", " + std::to_string(hi) + "], found '" + value + "'");
  return static_cast<int>(v);
}

}  // namespace

DistEnv dist_env_from(const std::function<const char*(const char*)>& getenv) {
  DistEnv e;
  auto get = [&](const char* k) -> const char* {
    const char* v = getenv(k);
    return v != nullptr && *v != '\0' ? v : nullptr;
  };
  if (get("WORLD_SIZE") != nullptr || get("RANK") != nullptr) {
    if (get("WORLD_SIZE") == nullptr || get("RANK") == nullptr)
      throw std::invalid_argument("environment: RANK and WORLD_SIZE must be set together (torchrun sets both)");
    e.source = "torchrun";
    e.world_size = parse_int("WORLD_SIZE", get("WORLD_SIZE"), 1, 1 << 20);
    e.rank = parse_int("RANK", get("RANK"), 0, e.world_size - 1);
    if (get("LOCAL_RANK")) e.local_rank = parse_int("LOCAL_RANK", get("LOCAL_RANK"), 0, 1 << 20);
  } else if (get("SLURM_PROCID") != nullptr && get("SLURM_NTASKS") != nullptr) {
    e.source = "slurm";
    e.world_size = parse_int("SLURM_NTASKS", get("SLURM_NTASKS"), 1, 1 << 20);
    e.rank = parse_int("SLURM_PROCID", get("SLURM_PROCID"), 0, e.world_size - 1);
    if (get("SLURM_LOCALID")) e.local_rank = parse_int("SLURM_LOCALID", get("SLURM_LOCALID"), 0, 1 << 20);
    if (get("SLURM_LAUNCH_NODE_IPADDR")) e.master_addr = get("SLURM_LAUNCH_NODE_IPADDR");
  }
  if (get("MASTER_ADDR")) e.master_addr = get("MASTER_ADDR");
  if (get("MASTER_PORT")) e.master_port = parse_int("MASTER_PORT", get("MASTER_PORT"), 1, 65535);
  if (get("TORCHELASTIC_USE_AGENT_STORE")) e.agent_store = std::string(get("TORCHELASTIC_USE_AGENT_STORE")) == "True";
  if (get("TORCHELASTIC_RESTART_COUNT")) e.restart_count = get("TORCHELASTIC_RESTART_COUNT");
  return e;
}

DistEnv dist_env() {
  return dist_env_from([](const char* k) { return std::getenv(k); });
}

struct Dist::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> pg;
  std::string backend;
  c10::Device device{c10::kCPU};
};

Dist::Dist(const DistEnv& env, const c10::Device& device, int timeout_s) : env_(env), impl_(std::make_unique<Impl>()) {
  impl_->backend = "none";
  impl_->device = device;
  if (env.world_size == 1) return;
  c10d::TCPStoreOptions o;
  o.port = static_cast<uint16_t>(env.master_port);
  o.numWorkers = static_cast<size_t>(env.world_size);
  o.timeout = std::chrono::seconds(timeout_s);
  if (env.agent_store) {  // Python's _create_c10d_store under torchrun's agent
    o.isServer = false;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
    impl_->store = c10::make_intrusive<c10d::PrefixStore>("/worker/attempt_" + env.restart_count, tcp);
  } else {
    o.isServer = env.rank == 0;
    o.multiTenant = true;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
  }
  if (device.is_cuda()) {
#ifdef LNB_HAVE_NCCL
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = std::chrono::seconds(timeout_s);
    impl_->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, env.rank, env.world_size, opts);
    impl_->backend = "nccl";
#else
    throw std::runtime_error("distributed: this lnbench was built without NCCL; CUDA ranks cannot communicate");
#endif
  } else {
#ifdef LNB_HAVE_GLOO
    auto opts = c10d::ProcessGroupGloo::Options::create();
    opts->timeout = std::chrono::seconds(timeout_s);
    const bool loopback = env.master_addr == "127.0.0.1" || env.master_addr == "localhost";
    opts->devices.push_back(loopback ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                     : c10d::ProcessGroupGloo::createDefaultDevice());
    impl_->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, env.rank, env.world_size, opts);
    impl_->backend = "gloo";
#else
    throw std::runtime_error("distributed: this lnbench was built without Gloo headers (libgloo-dev); CPU ranks cannot communicate");
#endif
  }
}

Dist::~Dist() = default;

std::string Dist::backend() const { return impl_->backend; }

void Dist::all_reduce_sum(const std::vector<at::Tensor>& tensors, int64_t bucket_bytes) {
  if (env_.world_size == 1 || tensors.empty()) return;
  size_t i = 0;
  while (i < tensors.size()) {
    // One bucket: consecutive tensors of one dtype up to bucket_bytes (at least one).
    size_t j = i;
    int64_t bytes = 0;
    while (j < tensors.size() && tensors[j].scalar_type() == tensors[i].scalar_type() &&
           (j == i || bytes + static_cast<int64_t>(tensors[j].nbytes()) <= bucket_bytes)) {
      bytes += static_cast<int64_t>(tensors[j].nbytes());
      ++j;
    }
    std::vector<at::Tensor> flat_parts;
    for (size_t k = i; k < j; ++k) flat_parts.push_back(tensors[k].reshape({-1}));
    std::vector<at::Tensor> bucket{at::cat(flat_parts)};
    impl_->pg->allreduce(bucket)->wait();
    int64_t offset = 0;
    for (size_t k = i; k < j; ++k) {
      const int64_t n = tensors[k].numel();
      tensors[k].copy_(bucket[0].narrow(0, offset, n).view(tensors[k].sizes()));
      offset += n;
    }
    i = j;
  }
}

std::vector<double> Dist::sum_scalars(std::vector<double> values) {
  if (env_.world_size == 1 || values.empty()) return values;
  at::Tensor t = at::tensor(values, at::kDouble).to(impl_->device);
  all_reduce_sum(std::vector<at::Tensor>{t});
  t = t.cpu();
  for (size_t i = 0; i < values.size(); ++i) values[i] = t[static_cast<int64_t>(i)].item<double>();
  return values;
}

void Dist::broadcast(at::Tensor& tensor, int root) {
  if (env_.world_size == 1) return;
  std::vector<at::Tensor> v{tensor};
  c10d::BroadcastOptions o;
  o.rootRank = root;
  impl_->pg->broadcast(v, o)->wait();
}

void Dist::barrier() {
  if (env_.world_size == 1) return;
  impl_->pg->barrier()->wait();
}

}  // namespace lnb::training
