// HttpServer::Impl: state shared by the endpoint handlers (http_server.cc, http_completions.cc).
// Only those two files include cpp-httplib.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>

#include "base/timer.h"
#include "chat/chat_template.h"
#include "server/api_error.h"
#include "server/generation_stream.h"
#include "server/http_server.h"
#include "server/openai_request.h"
#include "server/openai_response.h"

namespace rf::server {

void send_json(httplib::Response& res, int status, const nlohmann::json& body);
void send_error(httplib::Response& res, const ApiError& error);

class HttpServer::Impl {
 public:
  Impl(Engine& engine, const ServerParams& params, ChatTemplate chat_template);

  void add_routes();
  // One entry of GET /v1/models.
  nlohmann::json model_json() const;
  // POST /v1/chat/completions and /v1/completions.
  void handle_completion(const httplib::Request& req, httplib::Response& res, Endpoint endpoint);

  Engine& engine_;
  const Tokenizer& tokenizer_;
  ChatTemplate chat_template_;
  ServerParams params_;
  httplib::Server http_;
  int port_ = 0;
  double start_seconds_;
  int64_t created_;      // Unix seconds at start: /v1/models' "created"
  int64_t ctx_limit_;    // the most positions one request may use

  std::mutex counters_mutex_;
  std::map<int, int64_t> responses_by_status_;  // guarded by counters_mutex_
  std::atomic<int64_t> client_disconnects_{0};
  std::atomic<bool> stopping_{false};  // stop() was called: in-flight generations are cancelled

 private:
  // The prompt's token ids: the chat template applied to the messages, or the completion prompt
  // tokenized (or taken as given). Chat adds the template's stop strings to `stops`.
  ApiResult<std::vector<int32_t>> prompt_tokens(const CompletionRequest& request, std::vector<std::string>& stops) const;
  // Streams one request's events into the sink until it ends; false when the client went away.
  bool write_events(GenerationStream& stream, const ResponseMeta& meta, const CompletionRequest& request,
                    httplib::DataSink& sink) const;
};

}  // namespace rf::server
