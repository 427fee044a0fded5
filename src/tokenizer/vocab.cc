// load_vocab: tokenizer.ggml.* metadata to a Vocab, following llama.cpp's llama_vocab::impl::load.
#include "tokenizer/vocab.h"

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

#include "base/log.h"

namespace rf {
namespace {

using tok::PreTokenizerKind;

constexpr std::string_view kKeyModel = "tokenizer.ggml.model";
constexpr std::string_view kKeyPre = "tokenizer.ggml.pre";
constexpr std::string_view kKeyTokens = "tokenizer.ggml.tokens";
constexpr std::string_view kKeyScores = "tokenizer.ggml.scores";
constexpr std::string_view kKeyTypes = "tokenizer.ggml.token_type";
constexpr std::string_view kKeyMerges = "tokenizer.ggml.merges";

// Token types as stored in GGUF (llama_token_type).
enum : int64_t { kTypeNormal = 1, kTypeUnknown = 2, kTypeControl = 3, kTypeUserDefined = 4, kTypeUnused = 5, kTypeByte = 6 };

struct PreSpec {
  std::string_view name;
  PreTokenizerKind kind;
  bool ignore_merges = false;
  bool add_bos = false;
};

// tokenizer.ggml.pre names whose regexes are implemented, with the flags llama.cpp sets for them.
constexpr PreSpec kPreSpecs[] = {
    {"default", PreTokenizerKind::kDefault},
    {"llama3", PreTokenizerKind::kLlama3, true, true},
    {"llama-v3", PreTokenizerKind::kLlama3, true, true},
    {"llama-bpe", PreTokenizerKind::kLlama3, true, true},
    {"falcon3", PreTokenizerKind::kLlama3, true, true},
    {"falcon-h1", PreTokenizerKind::kLlama3, true, true},
    {"pixtral", PreTokenizerKind::kLlama3, true, true},
    {"midm-2.0", PreTokenizerKind::kLlama3, true, true},
    {"lfm2", PreTokenizerKind::kLlama3, true, true},
    {"jina-v5-nano", PreTokenizerKind::kLlama3, true, true},
    {"dbrx", PreTokenizerKind::kLlama3},
    {"smaug-bpe", PreTokenizerKind::kLlama3},
    {"deepseek-llm", PreTokenizerKind::kDeepseekLlm},
    {"deepseek-coder", PreTokenizerKind::kDeepseekCoder},
    {"falcon", PreTokenizerKind::kFalcon},
    {"gpt-2", PreTokenizerKind::kGpt2},
    {"phi-2", PreTokenizerKind::kGpt2},
    {"jina-es", PreTokenizerKind::kGpt2},
    {"jina-de", PreTokenizerKind::kGpt2},
    {"gigachat", PreTokenizerKind::kGpt2},
    {"jina-v2-es", PreTokenizerKind::kGpt2},
    {"jina-v2-de", PreTokenizerKind::kGpt2},
    {"a.x-4.0", PreTokenizerKind::kGpt2},
    {"mellum", PreTokenizerKind::kGpt2},
    {"modern-bert", PreTokenizerKind::kGpt2},
    {"exaone4", PreTokenizerKind::kGpt2},
    {"mpt", PreTokenizerKind::kGpt2},
    {"olmo", PreTokenizerKind::kGpt2},
    {"jais", PreTokenizerKind::kGpt2},
    {"trillion", PreTokenizerKind::kGpt2},
    {"granite-docling", PreTokenizerKind::kGpt2},
    {"starcoder", PreTokenizerKind::kStarcoder},
    {"refact", PreTokenizerKind::kStarcoder},
    {"command-r", PreTokenizerKind::kStarcoder},
    {"smollm", PreTokenizerKind::kStarcoder},
    {"codeshell", PreTokenizerKind::kStarcoder},
    {"exaone", PreTokenizerKind::kStarcoder},
    {"minerva-7b", PreTokenizerKind::kStarcoder},
    {"mellum2", PreTokenizerKind::kStarcoder},
    {"qwen2", PreTokenizerKind::kQwen2},
    {"deepseek-r1-qwen", PreTokenizerKind::kQwen2},
    {"kormo", PreTokenizerKind::kQwen2},
    {"f2llmv2", PreTokenizerKind::kQwen2},
    {"megrez", PreTokenizerKind::kQwen2},
    {"stablelm2", PreTokenizerKind::kQwen2},
    {"hunyuan", PreTokenizerKind::kQwen2},
    {"solar-open", PreTokenizerKind::kQwen2},
};

// Texts llama.cpp recognises as end-of-turn / fill-in-the-middle / end-of-generation tokens when the
// file does not name them; such tokens are also made control tokens.
constexpr std::string_view kEotTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>",
    "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"};
constexpr std::string_view kEomTexts[] = {"<|eom_id|>"};
constexpr std::string_view kFimPreTexts[] = {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>",
                                             "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"};
constexpr std::string_view kFimSufTexts[] = {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>",
                                             "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"};
constexpr std::string_view kFimMidTexts[] = {"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>",
                                             "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"};
constexpr std::string_view kFimPadTexts[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"};
constexpr std::string_view kFimRepTexts[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"};
constexpr std::string_view kFimSepTexts[] = {"<|file_sep|>"};
constexpr std::string_view kEogTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
    "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
    "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~["};

template <size_t N>
bool contains(const std::string_view (&list)[N], std::string_view s) {
  return std::find(std::begin(list), std::end(list), s) != std::end(list);
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

uint16_t attr_of_type(int64_t type) {
  switch (type) {
    case kTypeNormal: return kAttrNormal;
    case kTypeUnknown: return kAttrUnknown;
    case kTypeControl: return kAttrControl;
    case kTypeUserDefined: return kAttrUserDefined;
    case kTypeUnused: return kAttrUnused;
    case kTypeByte: return kAttrByte;
    default: return 0;  // undefined
  }
}

// Reads a per-token numeric array, which must have one element per token.
Result<const gguf::Array*> per_token_array(const gguf::File& file, std::string_view key, size_t n_tokens) {
  const gguf::Array* arr = file.get_array(key);
  if (arr == nullptr) {
    if (file.find(key) != nullptr) return make_error("metadata '%.*s' is not an array", int(key.size()), key.data());
    return static_cast<const gguf::Array*>(nullptr);
  }
  if (!arr->is_numeric()) {
    return make_error("metadata '%.*s' should be a numeric array, found an array of %.*s", int(key.size()),
                      key.data(), int(gguf::value_type_name(arr->type).size()),
                      gguf::value_type_name(arr->type).data());
  }
  if (arr->count != n_tokens) {
    return make_error("metadata '%.*s' has %" PRIu64 " entries but there are %zu tokens", int(key.size()),
                      key.data(), arr->count, n_tokens);
  }
  return arr;
}

Status load_tokens(const gguf::File& file, Vocab& v) {
  const gguf::Array* arr = file.get_array(kKeyTokens);
  if (arr == nullptr) return make_error("missing metadata '%s' (the token list)", kKeyTokens.data());
  if (arr->type != gguf::ValueType::kString) return make_error("metadata '%s' is not an array of strings", kKeyTokens.data());
  if (arr->strings.empty()) return make_error("metadata '%s' is empty", kKeyTokens.data());
  const size_t n = arr->strings.size();
  if (n > static_cast<size_t>(INT32_MAX)) return make_error("%zu tokens is too many", n);

  auto scores = per_token_array(file, kKeyScores, n);
  if (!scores.ok()) return scores.error();
  auto types = per_token_array(file, kKeyTypes, n);
  if (!types.ok()) return types.error();

  v.tokens.resize(n);
  v.scores.assign(n, 0.0f);
  v.attrs.assign(n, kAttrNormal);
  v.token_ids.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::string text(arr->strings[i]);
    if (text.empty()) {
      RF_LOG_WARN("tokenizer: empty token at index %zu", i);
      text = "[EMPTY_" + std::to_string(i) + "]";
    }
    const auto [it, inserted] = v.token_ids.emplace(text, static_cast<int32_t>(i));
    if (!inserted) {
      return make_error("duplicate token in vocabulary: '%s' has ids %d and %zu", text.c_str(), it->second, i);
    }
    v.tokens[i] = std::move(text);
    if (*scores) {
      const auto score = static_cast<float>((*scores)->float_at(i));
      v.scores[i] = std::isnan(score) ? -std::numeric_limits<float>::infinity() : score;  // keeps the merge order total
    }
    if (*types) v.attrs[i] = attr_of_type((*types)->int_at(i));
  }
  return {};
}

// Interns merge parts and results as symbols (see BpeMerges) and records each pair's rank.
Status load_merges(const gguf::File& file, Vocab& v) {
  const gguf::Array* arr = file.get_array(kKeyMerges);
  if (arr == nullptr) return make_error("missing metadata '%s' (a gpt2 tokenizer needs its BPE merges)", kKeyMerges.data());
  if (arr->type != gguf::ValueType::kString) return make_error("metadata '%s' is not an array of strings", kKeyMerges.data());
  BpeMerges& m = v.merges;
  auto intern = [&](std::string_view s) -> int32_t {
    if (const int32_t id = v.find(s); id != kNoToken) return id;
    const auto next = static_cast<int32_t>(v.tokens.size() + m.extra_symbols.size());
    return m.extra_symbols.emplace(std::string(s), next).first->second;
  };
  m.by_pair.reserve(arr->strings.size());
  std::string joined;
  for (size_t i = 0; i < arr->strings.size(); ++i) {
    const std::string_view merge = arr->strings[i];
    const size_t space = merge.find(' ', 1);  // as llama.cpp: the first space after the first byte
    if (space == std::string_view::npos) continue;  // cannot match any pair
    const std::string_view left = merge.substr(0, space), right = merge.substr(space + 1);
    if (right.empty()) continue;
    joined.assign(left).append(right);
    const int32_t l = intern(left), r = intern(right), result = intern(joined);
    m.by_pair.try_emplace(BpeMerges::key(l, r), BpeMerges::Merge{static_cast<int32_t>(i), result});
  }
  return {};
}

// Reads an optional token id key; ids outside the vocabulary are ignored with a warning.
void read_token_id(const gguf::File& file, std::string_view key, const Vocab& v, int32_t& id) {
  if (!v.valid_id(id)) id = kNoToken;  // a default that does not fit this vocabulary
  const std::optional<int64_t> value = file.get_int(key);
  if (!value) return;
  if (*value == -1 || *value == 0xFFFFFFFF) return;  // how converters spell "none"
  if (*value < 0 || *value >= v.n_tokens()) {
    RF_LOG_WARN("tokenizer: %.*s = %" PRId64 " is outside the vocabulary of %d tokens; ignored", int(key.size()),
                key.data(), *value, v.n_tokens());
    return;
  }
  id = static_cast<int32_t>(*value);
}

// When the file does not name a special token, llama.cpp looks it up by text and makes it a control
// token. With several candidates present llama.cpp takes whichever its hash map yields first; this
// takes the lowest id.
template <size_t N>
void detect_by_text(Vocab& v, int32_t& id, const std::string_view (&texts)[N]) {
  if (id != kNoToken) return;
  for (int32_t i = 0; i < v.n_tokens(); ++i) {
    if (contains(texts, v.tokens[i])) {
      id = i;
      v.attrs[i] |= kAttrControl;
      return;
    }
  }
}

void build_eog(Vocab& v, int32_t fim_pad, int32_t fim_rep, int32_t fim_sep) {
  std::vector<int32_t>& eog = v.eog_ids;
  for (const int32_t id : {fim_pad, fim_rep, fim_sep, v.eos_id, v.eot_id, v.eom_id}) {
    if (id != kNoToken) eog.push_back(id);
  }
  for (int32_t i = 0; i < v.n_tokens(); ++i) {
    if (contains(kEogTexts, v.tokens[i])) {
      eog.push_back(i);
      v.attrs[i] |= kAttrControl;
    }
  }
  // gpt-oss: these are rendered like user text.
  for (std::string_view t : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}) {
    if (const int32_t id = v.find(t); id != kNoToken) v.attrs[id] = kAttrUserDefined;
  }
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
  auto has = [&](std::string_view t) {
    const int32_t id = v.find(t);
    return id != kNoToken && std::binary_search(eog.begin(), eog.end(), id);
  };
  // o200k_harmony and solar-open: <|end|> ends a message, not the generation.
  const int32_t end = v.find("<|end|>");
  const bool call = has("<|call|>") || has("<|calls|>");
  if (has("<|end|>") && call && (has("<|return|>") || has("<|flush|>"))) {
    eog.erase(std::find(eog.begin(), eog.end(), end));
    v.attrs[end] = kAttrUserDefined;
  }
  // gemma4 and paddleocr: </s> is an ordinary token.
  const int32_t s = v.find("</s>");
  if (has("<|tool_response>") && has("</s>")) {
    eog.erase(std::find(eog.begin(), eog.end(), s));
    v.attrs[s] = kAttrNormal;
  }
}

// Model-specific whitespace stripping around special tokens, keyed on names as llama.cpp does.
void set_strip_attrs(const gguf::File& file, Vocab& v) {
  const std::string name = lowercase(file.get_string("general.name").value_or(""));
  const std::string arch(file.get_string("general.architecture").value_or(""));
  auto set = [&](std::string_view text, uint16_t attr, bool on) {
    if (const int32_t id = v.find(text); id != kNoToken) v.attrs[id] = on ? (v.attrs[id] | attr) : (v.attrs[id] & ~attr);
  };
  const std::string& pre = v.pre_name;
  if (pre.find("jina-v2-de") != std::string::npos || pre.find("jina-v2-es") != std::string::npos ||
      pre.find("jina-v2-code") != std::string::npos || arch.find("nomic-bert-moe") != std::string::npos ||
      arch.find("jina-bert-v3") != std::string::npos) {
    set("<mask>", kAttrLstrip, true);
  } else if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
    for (const int32_t id : v.special_ids) v.attrs[id] |= kAttrRstrip;
    set("</s>", kAttrRstrip, true);
    for (std::string_view t : {"<unk>", "<s>", "<|endoftext|>"}) set(t, kAttrRstrip, false);
  } else if (name.find("modern-bert") != std::string::npos) {
    set("[MASK]", kAttrLstrip, true);
  }
}

Status set_model(const gguf::File& file, Vocab& v) {
  const std::optional<std::string_view> model = file.get_string(kKeyModel);
  if (!model) return make_error("missing metadata '%s' (the tokenizer model)", kKeyModel.data());
  if (*model == "llama") {
    v.model = Vocab::Model::kSpm;
    v.bos_id = 1, v.eos_id = 2, v.unk_id = 0;
    v.add_space_prefix = true, v.add_bos = true;
    return {};
  }
  if (*model != "gpt2") {
    return make_error("unsupported tokenizer model '%.*s' (expected 'llama' or 'gpt2')", int(model->size()),
                      model->data());
  }
  v.model = Vocab::Model::kBpe;
  v.bos_id = 11, v.eos_id = 11;
  const std::optional<std::string_view> pre = file.get_string(kKeyPre);
  if (!pre) {
    RF_LOG_WARN("tokenizer: no '%s'; using llama.cpp's default pre-tokenizer (quality may suffer)", kKeyPre.data());
    v.pre = PreTokenizerKind::kDefault;
    return {};
  }
  for (const PreSpec& spec : kPreSpecs) {
    if (spec.name == *pre) {
      v.pre = spec.kind, v.ignore_merges = spec.ignore_merges, v.add_bos = spec.add_bos;
      return {};
    }
  }
  RF_LOG_WARN("tokenizer: unknown pre-tokenizer '%s'; falling back to gpt-2", v.pre_name.c_str());
  v.pre = PreTokenizerKind::kGpt2;
  return {};
}

}  // namespace

Result<Vocab> load_vocab(const gguf::File& file) {
  Vocab v;
  v.pre_name = std::string(file.get_string(kKeyPre).value_or(""));
  RF_RETURN_IF_ERROR(set_model(file, v));
  // Only SPM tokenization adds the space, so only SPM decoding removes it (llama.cpp would also strip
  // a leading space when decoding a BPE vocabulary that sets this key).
  if (std::optional<bool> b = file.get_bool("tokenizer.ggml.add_space_prefix"); b && v.model == Vocab::Model::kSpm) {
    v.add_space_prefix = *b;
  }
  RF_RETURN_IF_ERROR(load_tokens(file, v));
  if (v.model == Vocab::Model::kBpe) RF_RETURN_IF_ERROR(load_merges(file, v));

  int32_t fim_pre = kNoToken, fim_suf = kNoToken, fim_mid = kNoToken;
  int32_t fim_pad = kNoToken, fim_rep = kNoToken, fim_sep = kNoToken;
  read_token_id(file, "tokenizer.ggml.bos_token_id", v, v.bos_id);
  read_token_id(file, "tokenizer.ggml.eos_token_id", v, v.eos_id);
  read_token_id(file, "tokenizer.ggml.eot_token_id", v, v.eot_id);
  read_token_id(file, "tokenizer.ggml.eom_token_id", v, v.eom_id);
  read_token_id(file, "tokenizer.ggml.unknown_token_id", v, v.unk_id);
  read_token_id(file, "tokenizer.ggml.padding_token_id", v, v.pad_id);
  read_token_id(file, "tokenizer.ggml.fim_pre_token_id", v, fim_pre);
  read_token_id(file, "tokenizer.ggml.fim_suf_token_id", v, fim_suf);
  read_token_id(file, "tokenizer.ggml.fim_mid_token_id", v, fim_mid);
  read_token_id(file, "tokenizer.ggml.fim_pad_token_id", v, fim_pad);
  read_token_id(file, "tokenizer.ggml.fim_rep_token_id", v, fim_rep);
  read_token_id(file, "tokenizer.ggml.fim_sep_token_id", v, fim_sep);
  read_token_id(file, "tokenizer.ggml.prefix_token_id", v, fim_pre);  // deprecated spellings
  read_token_id(file, "tokenizer.ggml.suffix_token_id", v, fim_suf);
  read_token_id(file, "tokenizer.ggml.middle_token_id", v, fim_mid);

  if (std::optional<bool> b = file.get_bool("tokenizer.ggml.add_bos_token")) v.add_bos = *b;
  if (std::optional<bool> b = file.get_bool("tokenizer.ggml.add_eos_token")) v.add_eos = *b;
  if (v.add_bos && v.bos_id == kNoToken) return make_error("the vocabulary adds a BOS token but has none");
  if (v.add_eos && v.eos_id == kNoToken) return make_error("the vocabulary adds an EOS token but has none");

  detect_by_text(v, v.eot_id, kEotTexts);
  detect_by_text(v, v.eom_id, kEomTexts);
  detect_by_text(v, fim_pre, kFimPreTexts);
  detect_by_text(v, fim_suf, kFimSufTexts);
  detect_by_text(v, fim_mid, kFimMidTexts);
  detect_by_text(v, fim_pad, kFimPadTexts);
  detect_by_text(v, fim_rep, kFimRepTexts);
  detect_by_text(v, fim_sep, kFimSepTexts);
  build_eog(v, fim_pad, fim_rep, fim_sep);

  for (int32_t i = 0; i < v.n_tokens(); ++i) {
    if (v.attrs[i] & (kAttrControl | kAttrUserDefined | kAttrUnknown)) v.special_ids.push_back(i);
  }
  std::stable_sort(v.special_ids.begin(), v.special_ids.end(),
                   [&](int32_t a, int32_t b) { return v.tokens[a].size() > v.tokens[b].size(); });
  set_strip_attrs(file, v);

  for (int b = 0; b < 256; ++b) {
    char hex[8];
    std::snprintf(hex, sizeof(hex), "<0x%02X>", b);
    int32_t id = v.find(hex);
    if (id == kNoToken) id = v.find(std::string(1, static_cast<char>(b)));
    v.byte_ids[b] = id;
  }
  return v;
}

}  // namespace rf
