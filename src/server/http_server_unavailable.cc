// HttpServer for builds without cpp-httplib (the arm64 cross build has no target copy of it):
// create() explains, so `rocmforge serve` fails with a clear message instead of the build failing.
#include "server/http_server.h"

namespace rf::server {

class HttpServer::Impl {};

Result<std::unique_ptr<HttpServer>> HttpServer::create(Engine&, const ServerParams&) {
  return make_error("this rocmforge was built without HTTP support: cpp-httplib (Debian: libcpp-httplib-dev) "
                    "was not found when it was configured");
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;
int HttpServer::port() const { return 0; }
const std::string& HttpServer::chat_template_note() const {
  static const std::string kNone;
  return kNone;
}
Status HttpServer::run() { return make_error("no HTTP support in this build"); }
void HttpServer::stop() {}

}  // namespace rf::server
