// A plain double-precision forward pass, written from the model definitions, to test Session against.
#pragma once

#include <vector>

#include "model/model.h"

namespace rf::test {

// Logits (n_tokens x n_vocab) for tokens at positions 0..n-1, computed with every weight
// dequantized by the reference dequantizers and all arithmetic in double.
std::vector<std::vector<double>> reference_logits(const Model& model, const std::vector<int32_t>& tokens);

}  // namespace rf::test
