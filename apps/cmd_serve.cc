// `rocmforge serve`: the OpenAI-compatible HTTP server over the continuous-batching engine.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>

#include "cli_common.h"
#include "generation.h"
#include "runtime/engine.h"
#include "server/http_server.h"

namespace rf::app {
namespace {

struct ServeOptions {
  std::string model;
  LoadOptions load;
  EngineParams engine;
  server::ServerParams http;
  std::string cache_type_k = "f32";
  std::string cache_type_v = "f32";
};

int run_serve(ServeOptions o) {
  auto model = load_model(o.model, o.load);
  if (!model.ok()) return fail(model.error().message);
  o.engine.k_type = *parse_kv_type(o.cache_type_k);  // the CLI accepted only names it knows
  o.engine.v_type = *parse_kv_type(o.cache_type_v);
  o.http.model_name = std::filesystem::path(o.model).filename().string();
  o.http.engine_threads = o.engine.n_threads;
  // Every running and waiting request may hold a connection (streaming); a few more serve
  // /health and /metrics while they do. Past the cap, connections wait for a thread rather than
  // for the engine's queue.
  o.http.http_threads = std::min(o.engine.max_running + o.engine.max_waiting + 4, 1024);

  // SIGINT/SIGTERM are taken by sigwait() below; threads started from here on inherit the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto engine = Engine::create(*model, o.engine);
  if (!engine.ok()) return fail(engine.error().message);
  auto server = server::HttpServer::create(**engine, o.http);
  if (!server.ok()) return fail(server.error().message);
  std::fprintf(stderr, "engine: %d slots, %lld-position KV pool, %d threads; up to %d queued\n", o.engine.max_running,
               static_cast<long long>((*engine)->n_ctx()), o.engine.n_threads, o.engine.max_waiting);
  if (!(*server)->chat_template_note().empty()) {
    std::fprintf(stderr, "chat: %s\n", (*server)->chat_template_note().c_str());
  }
  std::fprintf(stderr, "listening on http://%s:%d\n", o.http.host.c_str(), (*server)->port());

  Status served = Status::ok_status();
  std::thread listener([&] {
    served = (*server)->run();
    kill(getpid(), SIGTERM);  // wakes sigwait() if the listener failed on its own
  });
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  (*server)->stop();
  listener.join();
  if (!served.ok()) return fail(served.error().message);
  std::fprintf(stderr, "stopped\n");
  return 0;
}

}  // namespace

Command add_serve_command(CLI::App& root) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = root.add_subcommand("serve", "OpenAI-compatible HTTP server (continuous batching)");
  add_model_option(cmd, o->model);
  add_threads_option(cmd, o->engine.n_threads);
  add_load_options(cmd, o->load);
  add_cache_type_options(cmd, o->cache_type_k, o->cache_type_v);
  server::ServerParams& h = o->http;
  cmd->add_option("--host", h.host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", h.port, "port (0: any free port; the chosen one is printed)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  // llama-server spells it -np; main() turns that into --np.
  cmd->add_option("--np,--parallel", o->engine.max_running, "requests generated together (slots)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--max-queue", o->engine.max_waiting, "requests queued beyond the slots; more get HTTP 429")
      ->capture_default_str()
      ->check(CLI::Range(1, 65536));
  cmd->add_option("-c,--ctx-size", o->engine.n_ctx, "KV pool size in positions, shared by all requests (0: fit free memory)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  cmd->add_option("--api-key", h.api_key, "require \"Authorization: Bearer KEY\" (all endpoints but /health)")
      ->envname("ROCMFORGE_API_KEY");
  cmd->add_option("--max-body-size", h.max_body_bytes, "largest request body in bytes (larger: HTTP 413)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  cmd->add_option("--timeout", h.timeout_seconds, "seconds a socket read or write may stall before the connection is dropped")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  return {cmd, [o] { return run_serve(*o); }};
}

}  // namespace rf::app
