// Binding GGUF tensors to ModelWeights, with messages that show expected vs found shapes.
#include "model/weights.h"

#include <string>

#include "quant/dequantize.h"

namespace rf {
namespace {

std::string shape_string(const gguf::TensorInfo& t) {
  std::string s = "[";
  for (int d = 0; d < t.n_dims; ++d) s += (d ? ", " : "") + std::to_string(t.ne[d]);
  return s + "]";
}

class Binder {
 public:
  explicit Binder(const gguf::File& file) : file_(file) {}

  // A tensor of shape [cols, rows] (GGUF order), or [cols] for vectors (rows == 1).
  Result<const gguf::TensorInfo*> find(const std::string& name, int64_t cols, int64_t rows) const {
    const gguf::TensorInfo* t = file_.find_tensor(name);
    if (t == nullptr) return make_error("missing tensor '%s'", name.c_str());
    const bool vector = rows == 1;
    const bool ok = t->ne[0] == cols && t->ne[1] == rows && t->ne[2] == 1 && t->ne[3] == 1 &&
                    (vector || t->n_dims == 2);
    if (!ok) {
      return make_error("tensor '%s': expected shape [%lld, %lld], found %s %s", name.c_str(),
                        static_cast<long long>(cols),
                        static_cast<long long>(rows), dtype_name(t->type).data(), shape_string(*t).c_str());
    }
    if (!dtype_info(t->type).can_dequantize) {
      return make_error("tensor '%s' has type %s, which this build cannot compute with", name.c_str(),
                        dtype_name(t->type).data());
    }
    return t;
  }

  Status matrix(const std::string& name, int64_t cols, int64_t rows, cpu::MatrixView& out) const {
    auto t = find(name, cols, rows);
    if (!t.ok()) return t.error();
    const gguf::TensorInfo& ti = **t;
    out = {ti.data, ti.type, rows, cols, *row_bytes(ti.type, static_cast<uint64_t>(cols))};
    return {};
  }

  Status vector(const std::string& name, int64_t n, std::vector<float>& out) const {
    auto t = find(name, n, 1);
    if (!t.ok()) return t.error();
    out.resize(static_cast<size_t>(n));
    dequantize_row((*t)->type, (*t)->data, out.data(), n);
    return {};
  }

  Status optional_vector(const std::string& name, int64_t n, std::vector<float>& out) const {
    if (file_.find_tensor(name) == nullptr) return {};
    return vector(name, n, out);
  }

 private:
  const gguf::File& file_;
};

}  // namespace

Result<ModelWeights> bind_weights(const gguf::File& file, const ModelConfig& c) {
  const Binder b(file);
  ModelWeights w;
  RF_RETURN_IF_ERROR(b.matrix("token_embd.weight", c.n_embd, c.n_vocab, w.token_embd));
  RF_RETURN_IF_ERROR(b.vector("output_norm.weight", c.n_embd, w.output_norm));
  if (file.find_tensor("output.weight") != nullptr) {
    RF_RETURN_IF_ERROR(b.matrix("output.weight", c.n_embd, c.n_vocab, w.output));
  } else {
    w.output = w.token_embd;  // tied embeddings
  }
  w.layers.resize(static_cast<size_t>(c.n_layer));
  for (int64_t i = 0; i < c.n_layer; ++i) {
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    const std::string p = "blk." + std::to_string(i) + ".";
    RF_RETURN_IF_ERROR(b.vector(p + "attn_norm.weight", c.n_embd, l.attn_norm));
    RF_RETURN_IF_ERROR(b.matrix(p + "attn_q.weight", c.n_embd, c.q_dim(), l.wq));
    RF_RETURN_IF_ERROR(b.matrix(p + "attn_k.weight", c.n_embd, c.kv_dim(), l.wk));
    RF_RETURN_IF_ERROR(b.matrix(p + "attn_v.weight", c.n_embd, c.kv_dim(), l.wv));
    RF_RETURN_IF_ERROR(b.matrix(p + "attn_output.weight", c.q_dim(), c.n_embd, l.wo));
    if (c.qkv_bias) {
      RF_RETURN_IF_ERROR(b.vector(p + "attn_q.bias", c.q_dim(), l.bq));
      RF_RETURN_IF_ERROR(b.vector(p + "attn_k.bias", c.kv_dim(), l.bk));
      RF_RETURN_IF_ERROR(b.vector(p + "attn_v.bias", c.kv_dim(), l.bv));
    } else {
      RF_RETURN_IF_ERROR(b.optional_vector(p + "attn_q.bias", c.q_dim(), l.bq));
      RF_RETURN_IF_ERROR(b.optional_vector(p + "attn_k.bias", c.kv_dim(), l.bk));
      RF_RETURN_IF_ERROR(b.optional_vector(p + "attn_v.bias", c.kv_dim(), l.bv));
    }
    RF_RETURN_IF_ERROR(b.vector(p + "ffn_norm.weight", c.n_embd, l.ffn_norm));
    RF_RETURN_IF_ERROR(b.matrix(p + "ffn_gate.weight", c.n_embd, c.n_ff, l.w_gate));
    RF_RETURN_IF_ERROR(b.matrix(p + "ffn_up.weight", c.n_embd, c.n_ff, l.w_up));
    RF_RETURN_IF_ERROR(b.matrix(p + "ffn_down.weight", c.n_ff, c.n_embd, l.w_down));
  }
  return w;
}

}  // namespace rf
