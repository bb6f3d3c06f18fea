// Precompiled header for lnbench's LibTorch translation units (model/, training/,
// harness/, their tests). Heavy, stable headers only; never our own.
#pragma once
#include <torch/torch.h>
#include <ATen/ATen.h>
