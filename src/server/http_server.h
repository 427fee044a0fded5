// HttpServer: the OpenAI-compatible HTTP front end over an Engine (cpp-httplib underneath).
//
// Endpoints: POST /v1/chat/completions, POST /v1/completions (JSON or SSE streaming), GET /v1/models,
// GET /health, GET /metrics (Prometheus), POST /tokenize, POST /detokenize. Errors use OpenAI's
// {"error": {...}} schema. With an API key every endpoint but /health wants "Authorization: Bearer KEY".
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "base/result.h"
#include "runtime/engine.h"

namespace rf::server {

struct ServerParams {
  std::string host = "127.0.0.1";
  int port = 8080;                     // 0: any free port (port() says which)
  std::string api_key;                 // empty: no authentication
  size_t max_body_bytes = 1 << 20;     // larger request bodies get 413
  int timeout_seconds = 600;           // socket read/write timeout (slow or stalled clients)
  std::string model_name;              // "model" in responses and /v1/models
  int http_threads = 8;                // connections served at once: each streaming request holds one
  int engine_threads = 1;              // for the CPU utilisation metric
};

class HttpServer {
 public:
  // Binds and listens (connections queue until run()); fails if the address cannot be bound or
  // this build has no HTTP support.
  static Result<std::unique_ptr<HttpServer>> create(Engine& engine, const ServerParams& params);
  ~HttpServer();

  int port() const;  // the bound port
  // Why /v1/chat/completions uses a default chat template (the model has none); empty otherwise.
  const std::string& chat_template_note() const;
  // Serves until stop(); returns once the listener is closed.
  Status run();
  // From any thread (e.g. a signal watcher): closes the listener and cancels generations in
  // flight (non-streaming ones answer 503, streams end); run() returns once their handlers have.
  void stop();

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rf::server
