// Engine: the scheduler loop — admission with prefix reuse, packed steps, sampling, completion.
#include "runtime/engine.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "base/log.h"
#include "base/timer.h"
#include "hardware/hardware.h"
#include "kv/block_pool.h"
#include "kv/kv_cache.h"
#include "model/forward.h"

namespace rf {
namespace {

constexpr int64_t kBlock = KvCache::kBlockPositions;

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// A request inside the engine. tokens = prompt, then each sampled token; the KV of the first
// n_computed positions is in `blocks`. The last sampled token is computed by the next step.
struct Sequence {
  uint64_t id = 0;
  GenerationRequest request;
  TokenCallback on_token;
  DoneCallback on_done;
  std::vector<int32_t> tokens;
  int64_t n_prompt = 0;
  int64_t n_computed = 0;
  std::vector<int32_t> blocks;        // block table
  std::vector<uint64_t> chain;        // chain hash of each published leading block
  std::unique_ptr<Sampler> sampler;
  int64_t n_generated = 0;
  int64_t cached_prompt = 0;
  bool cancelled = false;

  int64_t pending() const { return static_cast<int64_t>(tokens.size()) - n_computed; }
};

// Log-probabilities from raw logits: log softmax, in double for the normaliser. ids: scratch
// (n_vocab entries once grown), reused across tokens.
void fill_logprobs(std::span<const float> logits, int top_n, GeneratedToken& out, std::vector<int32_t>& ids) {
  const float max = *std::max_element(logits.begin(), logits.end());
  double sum = 0.0;
  for (const float x : logits) sum += std::exp(static_cast<double>(x - max));
  const auto log_norm = static_cast<float>(std::log(sum)) + max;
  out.logprob = logits[static_cast<size_t>(out.token)] - log_norm;
  if (top_n <= 0) return;
  ids.resize(logits.size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i);
  const auto n = std::min<size_t>(static_cast<size_t>(top_n), ids.size());
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n), ids.end(), [&](int32_t a, int32_t b) {
    return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)];
  });
  for (size_t i = 0; i < n; ++i) out.top.push_back({ids[i], logits[static_cast<size_t>(ids[i])] - log_norm});
}

}  // namespace

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kLength: return "length";
    case FinishReason::kStop: return "stop";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kError: return "error";
  }
  return "error";
}

class Engine::Impl {
 public:
  Impl(const Model& model, const EngineParams& params, int64_t pool_positions)
      : model_(model), params_(params), threads_(params.n_threads),
        kv_(model.config().n_layer, pool_positions, model.config().n_head_kv, model.config().head_dim,
            params.k_type, params.v_type),
        blocks_(kv_.n_blocks(), kBlock),
        max_len_(std::min(model.config().n_ctx_train, kv_.n_blocks() * kBlock)),
        forward_(model, threads_, params.step_tokens, max_len_),
        logits_(static_cast<size_t>(params.max_running * model.config().n_vocab)) {
    metrics_.kv_blocks_total = kv_.n_blocks();
    thread_ = std::thread([this] { loop(); });
  }

  ~Impl() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  SubmitResult submit(GenerationRequest request, TokenCallback on_token, DoneCallback on_done) {
    const auto refuse = [](SubmitResult::Status status, std::string message) {
      SubmitResult r;
      r.status = status;
      r.message = std::move(message);
      return r;
    };
    const int64_t n_prompt = static_cast<int64_t>(request.prompt.size());
    if (n_prompt == 0) return refuse(SubmitResult::kInvalid, "the prompt is empty");
    for (const int32_t t : request.prompt) {
      if (t < 0 || t >= model_.config().n_vocab) {
        return refuse(SubmitResult::kInvalid, "token id " + std::to_string(t) + " is outside the vocabulary");
      }
    }
    if (n_prompt >= max_len_) {
      return refuse(SubmitResult::kInvalid, "the prompt has " + std::to_string(n_prompt) +
                                                " tokens; the context holds " + std::to_string(max_len_) +
                                                " including at least one generated token");
    }
    if (request.top_logprobs > 20) return refuse(SubmitResult::kInvalid, "top_logprobs must be at most 20");
    const Status valid = validate_sampling_params(request.sampling);
    if (!valid.ok()) return refuse(SubmitResult::kInvalid, valid.error().message);

    auto seq = std::make_unique<Sequence>();
    seq->tokens = request.prompt;
    seq->n_prompt = n_prompt;
    seq->sampler = std::make_unique<Sampler>(request.sampling, model_.config().n_vocab);
    seq->request = std::move(request);
    seq->on_token = std::move(on_token);
    seq->on_done = std::move(on_done);
    SubmitResult r;
    {
      std::lock_guard lock(mu_);
      if (n_queued_ >= params_.max_waiting) {
        return refuse(SubmitResult::kQueueFull, "the server is busy: " + std::to_string(n_queued_) + " requests are waiting");
      }
      seq->id = r.id = next_id_++;
      ++n_queued_;
      incoming_.push_back(std::move(seq));
    }
    cv_.notify_all();
    return r;
  }

  void cancel(uint64_t id) {
    {
      std::lock_guard lock(mu_);
      cancels_.push_back(id);
    }
    cv_.notify_all();
  }

  EngineMetrics metrics() const {
    std::lock_guard lock(mu_);
    return metrics_;
  }

  const Model& model() const { return model_; }
  int64_t n_ctx() const { return kv_.n_blocks() * kBlock; }

 private:
  void loop() {
    std::vector<uint64_t> cancels;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !incoming_.empty() || !cancels_.empty() || !running_.empty() || !waiting_.empty(); });
        if (stop_) break;
        for (auto& s : incoming_) waiting_.push_back(std::move(s));
        incoming_.clear();
        cancels.swap(cancels_);
        cancels_.clear();
      }
      apply_cancels(cancels);
      admit();
      if (!running_.empty()) step();
      publish_metrics();
    }
    {
      std::lock_guard lock(mu_);
      for (auto& s : incoming_) waiting_.push_back(std::move(s));
      incoming_.clear();
    }
    while (!running_.empty()) finish(running_.front().get(), FinishReason::kCancelled);
    for (auto& s : waiting_) finish_waiting(*s, FinishReason::kCancelled);
    waiting_.clear();
  }

  void apply_cancels(const std::vector<uint64_t>& ids) {
    if (ids.empty()) return;
    const std::unordered_set<uint64_t> set(ids.begin(), ids.end());
    for (auto& s : running_) s->cancelled = s->cancelled || set.count(s->id) > 0;
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (set.count((*it)->id) > 0) {
        finish_waiting(**it, FinishReason::kCancelled);
        it = waiting_.erase(it);
      } else {
        ++it;
      }
    }
    for (size_t i = 0; i < running_.size();) {
      if (running_[i]->cancelled) {
        finish(running_[i].get(), FinishReason::kCancelled);
      } else {
        ++i;
      }
    }
  }

  // Moves waiting requests into the running set while there is room, reusing cached prefixes.
  // A request joins only if the blocks not in use cover its prompt plus one block of growth per
  // running sequence: admitting more would only preempt someone (recomputation, no progress).
  void admit() {
    while (static_cast<int>(running_.size()) < params_.max_running && !waiting_.empty()) {
      const int64_t prompt_blocks = (static_cast<int64_t>(waiting_.front()->tokens.size()) + kBlock) / kBlock;
      const int64_t spare = blocks_.n_free() + blocks_.n_cached();
      if (!running_.empty() && spare < prompt_blocks + static_cast<int64_t>(running_.size())) break;
      std::unique_ptr<Sequence> seq = std::move(waiting_.front());
      waiting_.pop_front();
      {
        std::lock_guard lock(mu_);
        --n_queued_;
      }
      // Full blocks before the last token only: that token must be computed for its logits.
      const int64_t reusable = (static_cast<int64_t>(seq->tokens.size()) - 1) / kBlock;
      uint64_t parent = BlockPool::kSeed;
      for (int64_t i = 0; i < reusable; ++i) {
        const std::span<const int32_t> block_tokens(seq->tokens.data() + i * kBlock, kBlock);
        const int32_t b = blocks_.lookup(parent, block_tokens);
        if (b == BlockPool::kNone) break;
        seq->blocks.push_back(b);
        parent = BlockPool::chain_hash(parent, block_tokens);
        seq->chain.push_back(parent);
      }
      seq->n_computed = static_cast<int64_t>(seq->blocks.size()) * kBlock;
      if (seq->n_generated == 0) {  // first admission (not a resumed, preempted sequence)
        seq->cached_prompt = seq->n_computed;
        ++metrics_work_.prefix_lookups;
        if (seq->n_computed > 0) ++metrics_work_.prefix_hits;
        metrics_work_.prompt_tokens_cached += seq->n_computed;
      }
      running_.push_back(std::move(seq));
    }
  }

  // Gives the sequence blocks for positions up to `end`; false if the pool is exhausted.
  bool reserve(Sequence& seq, int64_t end) {
    while (static_cast<int64_t>(seq.blocks.size()) * kBlock < end) {
      const int32_t b = blocks_.allocate();
      if (b == BlockPool::kNone) return false;
      seq.blocks.push_back(b);
    }
    return true;
  }

  // Frees the most recently admitted running sequence other than `keep` and queues it again at
  // the front (it will recompute its KV, mostly from the prefix cache). False if there is none.
  bool preempt(const Sequence* keep) {
    for (auto it = running_.rbegin(); it != running_.rend(); ++it) {
      if (it->get() == keep) continue;
      std::unique_ptr<Sequence> victim = std::move(*it);
      running_.erase(std::next(it).base());
      release_blocks(*victim);
      victim->n_computed = 0;
      ++metrics_work_.preemptions;
      waiting_.push_front(std::move(victim));
      std::lock_guard lock(mu_);
      ++n_queued_;
      return true;
    }
    return false;
  }

  void release_blocks(Sequence& seq) {
    for (const int32_t b : seq.blocks) blocks_.release(b);
    seq.blocks.clear();
    seq.chain.clear();
  }

  struct Planned {
    Sequence* seq;
    int64_t n;
  };

  // One engine step: single pending tokens (decode) first, then prompt chunks oldest first, all
  // within the token budget; one forward pass; then sampling.
  void step() {
    const double start = now_seconds();
    plan_.clear();
    int64_t budget = params_.step_tokens;
    for (int pass = 0; pass < 2; ++pass) {
      for (size_t i = 0; i < running_.size() && budget > 0; ++i) {
        Sequence* seq = running_[i].get();
        const bool decode = seq->pending() == 1;
        if (decode != (pass == 0)) continue;
        const int64_t n = std::min(seq->pending(), budget);
        while (!reserve(*seq, seq->n_computed + n)) {
          if (!preempt(seq)) break;  // a sequence alone always fits (max_len_ <= pool)
        }
        if (static_cast<int64_t>(seq->blocks.size()) * kBlock < seq->n_computed + n) continue;
        plan_.push_back({seq, n});
        budget -= n;
      }
    }
    // Preemption may have removed sequences planned earlier in this step.
    std::erase_if(plan_, [&](const Planned& p) {
      return std::none_of(running_.begin(), running_.end(), [&](const auto& s) { return s.get() == p.seq; });
    });
    if (plan_.empty()) return;

    batch_tokens_.clear();
    segments_.clear();
    int64_t n_decode = 0, n_prompt = 0;
    for (const Planned& p : plan_) {
      Sequence& s = *p.seq;
      batch_tokens_.insert(batch_tokens_.end(), s.tokens.begin() + s.n_computed, s.tokens.begin() + s.n_computed + p.n);
      segments_.push_back({s.blocks, s.n_computed, p.n, s.n_computed + p.n == static_cast<int64_t>(s.tokens.size())});
      (s.n_generated > 0 && p.n == 1 ? n_decode : n_prompt) += p.n;
    }
    forward_.run(batch_tokens_.data(), segments_, kv_, false, logits_.data());

    int64_t row = 0;
    const int64_t n_vocab = model_.config().n_vocab;
    for (size_t i = 0; i < plan_.size(); ++i) {
      Sequence& s = *plan_[i].seq;
      s.n_computed += plan_[i].n;
      publish_full_blocks(s);
      if (!segments_[i].want_logits) continue;
      const std::span<const float> logits(logits_.data() + row * n_vocab, static_cast<size_t>(n_vocab));
      ++row;
      sample(s, logits);
    }
    const double elapsed = now_seconds() - start;
    const double total = static_cast<double>(n_decode + n_prompt);
    metrics_work_.steps += 1;
    metrics_work_.step_seconds += elapsed;
    metrics_work_.prompt_tokens += n_prompt;
    metrics_work_.prompt_seconds += elapsed * static_cast<double>(n_prompt) / total;
    metrics_work_.generate_seconds += elapsed * static_cast<double>(n_decode) / total;
  }

  void publish_full_blocks(Sequence& s) {
    const int64_t full = std::min(s.n_computed, static_cast<int64_t>(s.tokens.size())) / kBlock;
    for (auto i = static_cast<int64_t>(s.chain.size()); i < full; ++i) {
      const uint64_t parent = i == 0 ? BlockPool::kSeed : s.chain[static_cast<size_t>(i - 1)];
      const std::span<const int32_t> block_tokens(s.tokens.data() + i * kBlock, kBlock);
      blocks_.publish(s.blocks[static_cast<size_t>(i)], parent, block_tokens);
      s.chain.push_back(BlockPool::chain_hash(parent, block_tokens));
    }
  }

  void sample(Sequence& s, std::span<const float> logits) {
    GeneratedToken out;
    out.token = s.sampler->sample(logits);
    s.sampler->accept(out.token);
    if (s.request.stop_at_eos && model_.tokenizer().is_end_of_generation(out.token)) {
      finish(&s, FinishReason::kStop);
      return;
    }
    if (s.request.top_logprobs >= 0) fill_logprobs(logits, s.request.top_logprobs, out, logprob_ids_);
    s.tokens.push_back(out.token);
    ++s.n_generated;
    ++metrics_work_.generated_tokens;
    if (!s.on_token(out)) {
      finish(&s, FinishReason::kStop);
    } else if ((s.request.max_tokens > 0 && s.n_generated >= s.request.max_tokens) ||
               static_cast<int64_t>(s.tokens.size()) >= max_len_) {
      finish(&s, FinishReason::kLength);
    }
  }

  GenerationResult result_of(const Sequence& s, FinishReason reason) const {
    GenerationResult r;
    r.reason = reason;
    r.prompt_tokens = s.n_prompt;
    r.cached_prompt_tokens = s.cached_prompt;
    r.completion_tokens = s.n_generated;
    return r;
  }

  // Ends a running sequence: removes it, frees its blocks (published ones stay cached), then
  // reports — metrics first, so a caller woken by on_done already sees the request counted.
  void finish(Sequence* seq, FinishReason reason) {
    const auto it = std::find_if(running_.begin(), running_.end(), [&](const auto& s) { return s.get() == seq; });
    RF_CHECK(it != running_.end());
    const std::unique_ptr<Sequence> done = std::move(*it);
    running_.erase(it);
    release_blocks(*done);
    ++metrics_work_.requests_finished;
    publish_metrics();
    done->on_done(result_of(*done, reason));
  }

  void finish_waiting(Sequence& seq, FinishReason reason) {
    release_blocks(seq);
    ++metrics_work_.requests_finished;
    {
      std::lock_guard lock(mu_);
      --n_queued_;
    }
    publish_metrics();
    seq.on_done(result_of(seq, reason));
  }

  void publish_metrics() {
    std::lock_guard lock(mu_);
    metrics_ = metrics_work_;
    metrics_.requests_running = static_cast<int64_t>(running_.size());
    metrics_.requests_waiting = n_queued_;
    metrics_.kv_blocks_total = blocks_.n_blocks();
    metrics_.kv_blocks_used = blocks_.n_used();
    metrics_.kv_blocks_cached = blocks_.n_cached();
    metrics_.busy_cpu_seconds = process_cpu_seconds();
  }

  const Model& model_;
  EngineParams params_;
  ThreadPool threads_;
  KvCache kv_;
  BlockPool blocks_;
  int64_t max_len_;
  Forward forward_;
  AlignedBuffer<float> logits_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Sequence>> incoming_;  // submitted, not yet seen by the loop
  std::vector<uint64_t> cancels_;
  int64_t n_queued_ = 0;     // incoming + waiting
  uint64_t next_id_ = 1;
  bool stop_ = false;
  EngineMetrics metrics_;    // published copy, under mu_

  // Engine thread only.
  std::deque<std::unique_ptr<Sequence>> waiting_;
  std::vector<std::unique_ptr<Sequence>> running_;
  std::vector<Planned> plan_;
  std::vector<int32_t> batch_tokens_;
  std::vector<BatchSegment> segments_;
  std::vector<int32_t> logprob_ids_;
  EngineMetrics metrics_work_;

  std::thread thread_;
};

Result<std::unique_ptr<Engine>> Engine::create(const Model& model, const EngineParams& params) {
  if (params.n_threads < 1) return make_error("thread count must be at least 1");
  if (params.max_running < 1) return make_error("parallel sequences (-np) must be at least 1");
  if (params.max_waiting < 0) return make_error("queue size must not be negative");
  if (params.step_tokens < params.max_running) {
    return make_error("step budget %lld is smaller than the parallel sequences (%d)",
                      static_cast<long long>(params.step_tokens), params.max_running);
  }
  const ModelConfig& c = model.config();
  const KvCache one_block(c.n_layer, kBlock, c.n_head_kv, c.head_dim, params.k_type, params.v_type);
  const uint64_t bytes_per_position = one_block.block_bytes() / kBlock;
  int64_t positions = params.n_ctx;
  if (positions <= 0) {
    // Every parallel sequence can reach the trained context, within half of the free memory.
    const uint64_t available = hw::detect_hardware().memory.available_bytes;
    const int64_t affordable = available > 0 ? static_cast<int64_t>(available / 2 / bytes_per_position) : 4096;
    positions = std::clamp<int64_t>(params.max_running * c.n_ctx_train, kBlock, std::max<int64_t>(affordable, kBlock));
  }
  if (positions < kBlock) return make_error("the KV pool (-c %lld) must hold at least %lld positions",
                                            static_cast<long long>(positions), static_cast<long long>(kBlock));
  return std::unique_ptr<Engine>(new Engine(std::make_unique<Impl>(model, params, positions)));
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

SubmitResult Engine::submit(GenerationRequest request, TokenCallback on_token, DoneCallback on_done) {
  return impl_->submit(std::move(request), std::move(on_token), std::move(on_done));
}
void Engine::cancel(uint64_t id) { impl_->cancel(id); }
EngineMetrics Engine::metrics() const { return impl_->metrics(); }
const Model& Engine::model() const { return impl_->model(); }
int64_t Engine::n_ctx() const { return impl_->n_ctx(); }

}  // namespace rf
