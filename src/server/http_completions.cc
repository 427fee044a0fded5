// POST /v1/chat/completions and /v1/completions: prompt building, submission to the engine, and the
// JSON or SSE response.
#include <chrono>
#include <ctime>
#include <memory>

#include "server/http_server_impl.h"
#include "server/request_json.h"

namespace rf::server {
namespace {

using nlohmann::json;

constexpr std::chrono::milliseconds kPollInterval{500};

// Why a request that did not finish normally ended, for the client: 500 for an engine failure,
// 503 for a request cancelled because the server is shutting down.
ApiError abnormal_end(const GenerationResult& result) {
  ApiError e;
  e.type = "server_error";
  if (result.reason == FinishReason::kError) {
    e.status = 500;
    e.message = "generation failed: " + result.error;
  } else {
    e.status = 503;
    e.message = "the request was cancelled: the server is shutting down";
  }
  return e;
}

bool abnormal(const GenerationResult& result) {
  return result.reason == FinishReason::kError || result.reason == FinishReason::kCancelled;
}

}  // namespace

ApiResult<std::vector<int32_t>> HttpServer::Impl::prompt_tokens(const CompletionRequest& request,
                                                                std::vector<std::string>& stops) const {
  if (request.endpoint == Endpoint::kCompletion) {
    if (request.prompt_is_tokens) return request.prompt_tokens;
    return tokenizer_.encode(request.prompt, true, true);
  }
  auto text = chat_template_.apply(request.messages, true);
  // The template's own errors ("roles must alternate ...") are about the messages sent.
  if (!text.ok()) return invalid_request("messages", text.error().message);
  stops.insert(stops.end(), chat_template_.stop_strings().begin(), chat_template_.stop_strings().end());
  return chat_template_.tokenize(tokenizer_, *text);
}

void HttpServer::Impl::handle_completion(const httplib::Request& req, httplib::Response& res, Endpoint endpoint) {
  auto body = parse_json_object(req.body);
  if (!body.ok()) return send_error(res, body.error());
  auto parsed = endpoint == Endpoint::kChat ? parse_chat_request(*body)
                                            : parse_completion_request(*body, tokenizer_.n_vocab());
  if (!parsed.ok()) return send_error(res, parsed.error());
  auto request = std::make_shared<CompletionRequest>(std::move(parsed).value());

  std::vector<std::string> stops = request->stop;
  auto prompt = prompt_tokens(*request, stops);
  if (!prompt.ok()) return send_error(res, prompt.error());
  const char* prompt_field = endpoint == Endpoint::kChat ? "messages" : "prompt";
  const auto n_prompt = static_cast<int64_t>(prompt->size());
  if (n_prompt == 0) {
    return send_error(res, invalid_request(prompt_field, "the prompt is empty and the model adds no BOS token"));
  }
  if (n_prompt >= ctx_limit_) {
    return send_error(res, invalid_request(prompt_field, "the prompt is " + std::to_string(n_prompt) +
                                                             " tokens, but the context holds " +
                                                             std::to_string(ctx_limit_) +
                                                             " (with room for at least one generated token)"));
  }

  GenerationRequest gen;
  gen.prompt = std::move(prompt).value();
  // Like llama-server, a request for more tokens than fit is capped and ends with "length".
  const int64_t room = ctx_limit_ - n_prompt;
  gen.max_tokens = request->max_tokens > 0 ? std::min(request->max_tokens, room) : room;
  gen.sampling = request->sampling;
  gen.top_logprobs = request->top_logprobs;

  // Shared by the engine's callbacks (engine thread) and this handler or the stream provider (HTTP
  // thread): whichever finishes last frees it.
  auto stream = std::make_shared<GenerationStream>(tokenizer_, std::move(stops), endpoint == Endpoint::kChat,
                                                   request->top_logprobs >= 0);
  const SubmitResult submitted = engine_.submit(
      std::move(gen), [stream](const GeneratedToken& t) { return stream->on_token(t); },
      [stream](const GenerationResult& r) { stream->on_done(r); });
  if (submitted.status == SubmitResult::kInvalid) return send_error(res, invalid_request(prompt_field, submitted.message));
  if (submitted.status == SubmitResult::kQueueFull) {
    ApiError e;
    e.status = 429;
    e.type = "rate_limit_error";
    e.code = "rate_limit_exceeded";
    e.message = "the server is busy (" + submitted.message + "); retry later";
    res.set_header("Retry-After", "1");
    return send_error(res, e);
  }

  const ResponseMeta meta{endpoint, new_response_id(endpoint), static_cast<int64_t>(std::time(nullptr)),
                          params_.model_name};
  if (!request->stream) {
    std::string text;
    std::vector<TokenLogprobs> logprobs;
    for (bool cancelled = false;;) {
      StreamDelta d = stream->take(kPollInterval);
      if (stopping_ && !cancelled) {
        engine_.cancel(submitted.id);  // the result then comes back as kCancelled
        cancelled = true;
      }
      text += d.text;
      logprobs.insert(logprobs.end(), std::make_move_iterator(d.logprobs.begin()),
                      std::make_move_iterator(d.logprobs.end()));
      if (!d.result) continue;
      if (abnormal(*d.result)) return send_error(res, abnormal_end(*d.result));
      size_t offset = 0;
      json lp = request->top_logprobs >= 0 ? logprobs_json(endpoint, logprobs, offset) : json();
      return send_json(res, 200, completion_response(meta, text, *d.result, std::move(lp)));
    }
  }

  res.set_header("Cache-Control", "no-cache");
  const uint64_t id = submitted.id;
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, stream, meta, request](size_t, httplib::DataSink& sink) {
        return write_events(*stream, meta, *request, sink);
      },
      // Runs however the response ends: a stream still generating lost its client (or the server
      // is stopping).
      [this, stream, id](bool) {
        if (stream->finished()) return;
        engine_.cancel(id);
        if (!stopping_) client_disconnects_.fetch_add(1);
      });
}

bool HttpServer::Impl::write_events(GenerationStream& stream, const ResponseMeta& meta,
                                    const CompletionRequest& request, httplib::DataSink& sink) const {
  const auto send = [&sink](const std::string& event) { return sink.write(event.data(), event.size()); };
  const bool want_logprobs = request.top_logprobs >= 0;
  if (meta.endpoint == Endpoint::kChat && !send(sse_event(chat_role_chunk(meta, request.include_usage)))) return false;
  size_t offset = 0;
  // Log-probabilities of tokens whose text is still held back ride with the next text chunk.
  std::vector<TokenLogprobs> logprobs;
  for (;;) {
    StreamDelta d = stream.take(kPollInterval);
    if (stopping_) return false;
    logprobs.insert(logprobs.end(), std::make_move_iterator(d.logprobs.begin()),
                    std::make_move_iterator(d.logprobs.end()));
    const auto take_logprobs = [&] {
      json lp = want_logprobs ? logprobs_json(meta.endpoint, logprobs, offset) : json();
      logprobs.clear();
      return lp;
    };
    if (!d.text.empty() && !send(sse_event(stream_chunk(meta, d.text, nullptr, take_logprobs(), request.include_usage)))) {
      return false;
    }
    if (!d.result) continue;
    if (abnormal(*d.result)) {
      send(sse_event(error_json(abnormal_end(*d.result))));
      sink.done();
      return true;
    }
    json lp = logprobs.empty() ? json() : take_logprobs();
    if (!send(sse_event(stream_chunk(meta, "", openai_finish_reason(d.result->reason), std::move(lp),
                                     request.include_usage)))) {
      return false;
    }
    if (request.include_usage && !send(sse_event(usage_chunk(meta, *d.result)))) return false;
    if (!send(std::string(kSseDone))) return false;
    sink.done();
    return true;
  }
}

}  // namespace rf::server
