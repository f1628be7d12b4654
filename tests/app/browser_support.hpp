#pragma once

// A real headless chromium for dashboard tests, driven over the DevTools
// protocol: evaluate JavaScript in the page, take a screenshot.

#include <fstream>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "infra/http/ws_client.hpp"
#include "support.hpp"

namespace grove::test {

// --- a minimal DevTools client: evaluate JavaScript, take a screenshot ---

class devtools final {
public:
  explicit devtools(std::unique_ptr<grove::http::ws_client> c) : c_(std::move(c)) {}

  nlohmann::json call(const std::string& method, nlohmann::json params) {
    int id = ++next_;
    if (!c_->send_text(nlohmann::json{{"id", id}, {"method", method}, {"params", std::move(params)}}.dump()))
      return nlohmann::json{};
    for (;;) {
      auto text = c_->read(std::chrono::seconds{20});
      if (!text) return nlohmann::json{};
      auto f = nlohmann::json::parse(*text, nullptr, false);
      if (f.is_object() && f.value("id", 0) == id) return f;
    }
  }

  std::string eval(const std::string& expression) {
    auto r = call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}});
    auto& v = r["result"]["result"];
    return v.contains("value") && v["value"].is_string() ? v["value"].get<std::string>() : std::string{};
  }

private:
  std::unique_ptr<grove::http::ws_client> c_;
  int next_ = 0;
};

inline std::string base64_decode(const std::string& in) {
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (char c : in) {
    auto pos = chars.find(c);
    if (pos == std::string::npos) continue;
    val = (val << 6) + static_cast<int>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

/// chromium on `url` with a fresh profile under `dir`, attached to the page
/// whose URL holds `port`; killed when destroyed. `flags` go on its command line.
class browser final {
public:
  browser(const std::filesystem::path& dir, const std::string& url, const std::string& port,
          const std::string& flags = {}) {
    auto profile = dir / "chromium-profile";
    std::filesystem::create_directories(profile);
    process_ = std::make_unique<child_process>(
      "exec chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage "
      "--window-size=1280,1000 --remote-debugging-port=0 " +
      flags + " --user-data-dir='" + profile.string() + "' '" + url + "' >'" + (dir / "chromium.log").string() +
      "' 2>&1");
    auto devtools_port = wait_for_number_after(profile / "DevToolsActivePort", "", std::chrono::seconds{30});
    if (devtools_port.empty()) {
      why = "chromium did not start (is the chromium package installed?): " + read_file(dir / "chromium.log");
      return;
    }
    std::string page_ws;
    for (int i = 0; i < 100 && page_ws.empty(); ++i) {
      if (auto r = http::http_get("http://127.0.0.1:" + devtools_port + "/json/list"); r && r->status == 200) {
        for (auto& t : nlohmann::json::parse(r->body)) {
          if (t["type"] == "page" && t["url"].get<std::string>().find(port) != std::string::npos)
            page_ws = t["webSocketDebuggerUrl"];
        }
      }
      if (page_ws.empty()) std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
    if (page_ws.empty()) {
      why = "chromium has no page for " + url;
      return;
    }
    auto attached = http::ws_client::connect(page_ws, "");
    if (!attached) {
      why = attached.error().message;
      return;
    }
    page_ = std::make_unique<devtools>(std::move(*attached));
  }

  bool ok() const { return page_ != nullptr; }
  devtools& page() { return *page_; }

  /// Evaluates `expression` until it yields `want` (up to `timeout`); the last value.
  std::string wait_for(const std::string& expression, const std::string& want, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string got;
    while (std::chrono::steady_clock::now() < deadline) {
      got = page_->eval(expression);
      if (got == want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
    return got;
  }

  /// Saves a PNG of the page under the test artefacts; its size.
  size_t screenshot(const std::string& name) {
    auto shot = page_->call("Page.captureScreenshot", {{"format", "png"}});
    auto png = base64_decode(shot["result"].value("data", ""));
    std::filesystem::create_directories(GROVE_ARTIFACTS);
    auto path = std::string{GROVE_ARTIFACTS} + "/" + name;
    std::ofstream{path, std::ios::binary} << png;
    std::cerr << "screenshot: " << path << "\n";
    return png.size();
  }

  std::string why; ///< why it is not ok()

private:
  std::unique_ptr<child_process> process_;
  std::unique_ptr<devtools> page_;
};

} // namespace grove::test
