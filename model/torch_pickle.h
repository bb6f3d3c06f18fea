// State dicts that torch.save wrote (the zip format: LLaVA's non_lora_trainables.bin,
// PEFT's legacy adapter_model.bin), read with LibTorch's own unpickler: no Python at run
// time, and no arbitrary code (the unpickler knows only tensors and containers).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

namespace lnb::model {

// The (name, CPU tensor) pairs of a torch.save'd dict of str -> Tensor, in the dict's
// order. ModelLoadError (model/loader.h) naming the file: not a torch.save zip, a
// top-level value that is not a dict, a key that is not a string, a value that is not a
// tensor (naming its key), a file over 64 GiB.
std::vector<std::pair<std::string, at::Tensor>> read_torch_state_dict(const std::filesystem::path& file);

}  // namespace lnb::model
