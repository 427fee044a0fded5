// HttpServer: routes, authentication, error bodies and the simple endpoints over cpp-httplib; the
// completion endpoints live in http_completions.cc.
#include "server/http_server.h"

#include <signal.h>

#include <cstring>

#include "server/http_server_impl.h"
#include "server/metrics_text.h"
#include "server/openai_response.h"
#include "server/request_json.h"
#include "tokenizer/unicode.h"

namespace rf::server {
namespace {

using nlohmann::json;

// Compares without an early exit, so response timing does not reveal how much of a key matched.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::string& ref = a.size() == b.size() ? b : a;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ ref[i]);
  return diff == 0;
}

bool is_valid_utf8(std::string_view s) {
  for (size_t pos = 0; pos < s.size();) {
    size_t len = 0;
    if (tok::check_utf8(s, pos, &len) != tok::Utf8Check::kValid) return false;
    pos += len;
  }
  return true;
}

// The error body a status gets when no handler wrote one (httplib's own 404, 413, 400).
ApiError default_error(const httplib::Request& req, int status, size_t max_body_bytes) {
  ApiError e;
  e.status = status;
  switch (status) {
    case 404: e.message = "no endpoint " + req.method + " " + req.path; e.code = "not_found"; break;
    case 413:
      e.message = "the request body is larger than the server's limit of " + std::to_string(max_body_bytes) + " bytes";
      // cpp-httplib caps form-encoded bodies (curl -d's default type) far lower than JSON ones.
      if (req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0) {
        e.message = "a body sent as application/x-www-form-urlencoded is limited to " +
                    std::to_string(CPPHTTPLIB_FORM_URL_ENCODED_PAYLOAD_MAX_LENGTH) +
                    " bytes; send it with \"Content-Type: application/json\" (limit " + std::to_string(max_body_bytes) +
                    " bytes)";
      }
      e.code = "request_too_large";
      break;
    case 400: e.message = "malformed HTTP request"; break;
    default: e.type = status >= 500 ? "server_error" : "invalid_request_error"; e.message = "HTTP error " + std::to_string(status);
  }
  return e;
}

}  // namespace

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(dump_json(body), "application/json");
}

void send_error(httplib::Response& res, const ApiError& error) { send_json(res, error.status, error_json(error)); }

HttpServer::Impl::Impl(Engine& engine, const ServerParams& params, ChatTemplate chat_template)
    : engine_(engine),
      tokenizer_(engine.model().tokenizer()),
      chat_template_(std::move(chat_template)),
      params_(params),
      start_seconds_(now_seconds()),
      created_(static_cast<int64_t>(std::time(nullptr))) {
  const int64_t trained = engine.model().config().n_ctx_train;
  ctx_limit_ = trained > 0 ? std::min(engine.n_ctx(), trained) : engine.n_ctx();
  // Each streaming request holds a connection thread for its whole generation.
  const int threads = std::max(1, params.http_threads);
  http_.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http_.set_payload_max_length(params.max_body_bytes);
  http_.set_read_timeout(params.timeout_seconds, 0);
  http_.set_write_timeout(params.timeout_seconds, 0);
  http_.set_keep_alive_timeout(std::min<time_t>(params.timeout_seconds, 5));
  add_routes();
}

void HttpServer::Impl::add_routes() {
  http_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (params_.api_key.empty() || req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
    const std::string expected = "Bearer " + params_.api_key;
    if (same_secret(req.get_header_value("Authorization"), expected)) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    ApiError e;
    e.status = 401;
    e.type = "authentication_error";
    e.code = "invalid_api_key";
    e.message = req.has_header("Authorization") ? "invalid API key" : "missing API key: send \"Authorization: Bearer <key>\"";
    send_error(res, e);
    res.set_header("WWW-Authenticate", "Bearer");
    res.set_header("Connection", "close");  // the body, if any, is left unread
    return httplib::Server::HandlerResponse::Handled;
  });
  // Fills the body of errors no handler wrote (httplib's own 404, 413, 400).
  http_.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        send_error(res, default_error(req, res.status, params_.max_body_bytes));
        return httplib::Server::HandlerResponse::Handled;
      }));
  http_.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    ApiError e;
    e.status = 500;
    e.type = "server_error";
    e.message = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& ex) {
      e.message = std::string("internal error: ") + ex.what();
    } catch (...) {
    }
    send_error(res, e);
  });
  http_.set_logger([this](const httplib::Request&, const httplib::Response& res) {
    std::lock_guard<std::mutex> lock(counters_mutex_);
    ++responses_by_status_[res.status];
  });

  http_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle_completion(req, res, Endpoint::kChat);
  });
  http_.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle_completion(req, res, Endpoint::kCompletion);
  });
  http_.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, {{"object", "list"}, {"data", json::array({model_json()})}});
  });
  http_.Get(R"(/v1/models/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    if (req.matches[1] == params_.model_name) return send_json(res, 200, model_json());
    ApiError e;
    e.status = 404;
    e.code = "model_not_found";
    e.param = "model";
    e.message = "no model " + dump_json(req.matches[1].str()) + " here; this server has " + params_.model_name;
    send_error(res, e);
  });
  http_.Get("/health", [](const httplib::Request&, httplib::Response& res) { send_json(res, 200, {{"status", "ok"}}); });
  http_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    ServerCounters counters;
    counters.uptime_seconds = now_seconds() - start_seconds_;
    counters.n_threads = params_.engine_threads;
    counters.client_disconnects = client_disconnects_.load();
    {
      std::lock_guard<std::mutex> lock(counters_mutex_);
      counters.responses_by_status = responses_by_status_;
    }
    res.set_content(metrics_text(engine_.metrics(), counters), "text/plain; version=0.0.4; charset=utf-8");
  });
  http_.Post("/tokenize", [this](const httplib::Request& req, httplib::Response& res) {
    auto body = parse_json_object(req.body);
    if (!body.ok()) return send_error(res, body.error());
    auto r = parse_tokenize_request(*body);
    if (!r.ok()) return send_error(res, r.error());
    const std::vector<int32_t> ids = tokenizer_.encode(r->content, r->add_special, r->parse_special);
    json tokens = json::array();
    for (const int32_t id : ids) {
      if (!r->with_pieces) {
        tokens.push_back(id);
        continue;
      }
      // llama-server's shape: the piece as a string when it is valid UTF-8, else its bytes.
      const std::string piece = tokenizer_.token_to_piece(id, true);
      json bytes = json::array();
      for (const char c : piece) bytes.push_back(static_cast<unsigned char>(c));
      tokens.push_back({{"id", id}, {"piece", is_valid_utf8(piece) ? json(piece) : bytes}});
    }
    send_json(res, 200, {{"tokens", std::move(tokens)}});
  });
  http_.Post("/detokenize", [this](const httplib::Request& req, httplib::Response& res) {
    auto body = parse_json_object(req.body);
    if (!body.ok()) return send_error(res, body.error());
    auto ids = parse_detokenize_request(*body, tokenizer_.n_vocab());
    if (!ids.ok()) return send_error(res, ids.error());
    send_json(res, 200, {{"content", tokenizer_.decode(*ids, false)}});
  });
}

json HttpServer::Impl::model_json() const {
  const ModelConfig& c = engine_.model().config();
  return {{"id", params_.model_name}, {"object", "model"}, {"created", created_}, {"owned_by", "rocmforge"},
          {"meta", {{"n_vocab", c.n_vocab}, {"n_ctx_train", c.n_ctx_train}, {"n_ctx", ctx_limit_}}}};
}

Result<std::unique_ptr<HttpServer>> HttpServer::create(Engine& engine, const ServerParams& params) {
  // A client that goes away mid-response must fail the write, not kill the process.
  ::signal(SIGPIPE, SIG_IGN);
  auto chat_template = ChatTemplate::for_model(engine.model().file(), engine.model().tokenizer());
  if (!chat_template.ok()) return make_error("the model's %s", chat_template.error().message.c_str());
  auto impl = std::make_unique<Impl>(engine, params, std::move(chat_template).value());
  if (params.port == 0) {
    impl->port_ = impl->http_.bind_to_any_port(params.host);
    if (impl->port_ <= 0) return make_error("cannot bind to %s on any port", params.host.c_str());
  } else {
    if (!impl->http_.bind_to_port(params.host, params.port)) {
      return make_error("cannot bind to %s:%d: %s", params.host.c_str(), params.port,
                        errno != 0 ? std::strerror(errno) : "address unavailable");
    }
    impl->port_ = params.port;
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

int HttpServer::port() const { return impl_->port_; }

const std::string& HttpServer::chat_template_note() const { return impl_->chat_template_.note(); }

Status HttpServer::run() {
  if (!impl_->http_.listen_after_bind()) return make_error("the HTTP listener failed");
  return Status::ok_status();
}

void HttpServer::stop() {
  impl_->stopping_ = true;
  impl_->http_.stop();
}

}  // namespace rf::server
