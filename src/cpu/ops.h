// Element-wise and row-wise operators of the forward pass, dispatched to the kernel table's ISA level.
#pragma once

#include <cstdint>

namespace rf::cpu {

// out[i] = x[i] / rms(x) * weight[i], rms over n elements. out may alias x.
void rms_norm(const float* x, const float* weight, float* out, int64_t n, float eps);

// out[i] = (x[i] - mean) / sqrt(var + eps) * weight[i] + bias[i] over n elements. out may alias x.
void layer_norm(const float* x, const float* weight, const float* bias, float* out, int64_t n, float eps);

// Rotary position embedding in place on one head vector of head_dim floats; the first n_rot
// dimensions rotate. `neox` pairs dimension i with i + n_rot/2 (GPT-NeoX, Qwen2); otherwise
// adjacent pairs (2i, 2i+1) rotate (Llama as stored in GGUF). cos_sin holds n_rot/2 (cos, sin) pairs.
void rope(float* head, int64_t n_rot, const float* cos_sin, bool neox);

// Fills cos_sin[n_rot/2][2] for one position: theta_i = pos * freq_scale * base^(-2i/n_rot).
void rope_cos_sin(float* cos_sin, int64_t pos, int64_t n_rot, float freq_base, float freq_scale);

// In-place numerically stable softmax over n elements.
void softmax(float* x, int64_t n);

// gate[i] = silu(gate[i]) * up[i]: the SwiGLU activation.
void swiglu(float* gate, const float* up, int64_t n);

// x[i] = gelu(x[i]) with the tanh approximation (as ggml's GeLU).
void gelu(float* x, int64_t n);

// y[i] += x[i].
void add(float* y, const float* x, int64_t n);

// Plain dot product (portable; reference kernels and slow paths only).
float dot(const float* a, const float* b, int64_t n);

}  // namespace rf::cpu
