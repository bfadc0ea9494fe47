#include "tests/spec/cached_worker.h"

#include <map>

#include "process/base64.h"

namespace slabfuzz {
namespace {

// Well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
// JSON strings cannot carry anything else, so such texts are not sent.
bool isUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp, min;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      n = 1, cp = b & 0x1F, min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      n = 2, cp = b & 0x0F, min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      n = 3, cp = b & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = cp << 6 | (c & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000)) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<CachedWorker>, WorkerError> CachedWorker::start(
    CachedWorkerOptions options) {
  std::unique_ptr<CachedWorker> self(new CachedWorker(options.cache_dir));
  if (self->cache_.enabled() && options.stderr_path.empty()) {
    options.stderr_path = self->cache_.dir() + "/worker.stderr";
  }

  WorkerOptions worker_options;
  worker_options.argv = {options.node, options.script};
  worker_options.stderr_path = options.stderr_path;
  auto worker = NodeWorker::start(std::move(worker_options));
  if (!worker.ok()) return worker.error();
  self->worker_ = std::move(worker.value());

  // The handshake proves the worker loaded Binaryen, and names the versions
  // that key the cache.
  auto hello = self->worker_->call({{"op", "hello"}});
  if (!hello.ok()) return hello.error();
  const auto& h = hello.value();
  if (!h.value("ok", false) || !h.contains("binaryen") || !h["binaryen"].is_string() ||
      !h.contains("v8") || !h["v8"].is_string()) {
    return WorkerError{WorkerError::Kind::Protocol, "bad hello response: " + h.dump()};
  }
  self->binaryen_version_ = h["binaryen"].get<std::string>();
  // What a conversion depends on besides the text: the Binaryen release and
  // the feature set the worker hands it.
  self->conversion_config_ = "binaryen " + self->binaryen_version_ + " features " +
                             h.value("features", nlohmann::json()).dump() + " worker revision " +
                             h.value("revision", nlohmann::json()).dump();
  self->v8_version_ = h["v8"].get<std::string>();
  return self;
}

Result<std::vector<Conversion>, WorkerError> CachedWorker::wat2wasm(
    const std::vector<std::string>& texts) {
  std::vector<Conversion> results(texts.size());
  // Misses by cache key: the same text may occur many times (across files,
  // or as both a module and an assertion); it is converted once.
  std::map<std::string, std::vector<size_t>> misses;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (!isUtf8(texts[i])) {
      results[i].error = "module text is not valid UTF-8";
      continue;
    }
    std::string key = "wat2wasm\n" + conversion_config_ + "\n" + texts[i];
    if (auto cached = cache_.readConversion(key)) {
      results[i] = std::move(*cached);
      ++stats_.cache_hits;
      continue;
    }
    misses[std::move(key)].push_back(i);
  }
  if (misses.empty()) return results;

  std::vector<nlohmann::json> requests;
  std::vector<const std::pair<const std::string, std::vector<size_t>>*> order;
  for (const auto& miss : misses) {
    requests.push_back({{"op", "wat2wasm"}, {"text", texts[miss.second.front()]}});
    order.push_back(&miss);
  }
  stats_.worker_requests += requests.size();
  auto responses = worker_->callMany(std::move(requests));
  if (!responses.ok()) return responses.error();

  for (size_t r = 0; r < order.size(); ++r) {
    const auto& [key, indices] = *order[r];
    const auto& response = responses.value()[r];
    Conversion conversion;
    if (response.value("ok", false)) {
      auto wasm = response.contains("wasm") && response["wasm"].is_string()
                      ? base64Decode(response["wasm"].get<std::string>())
                      : std::nullopt;
      if (!wasm) {
        return WorkerError{
            WorkerError::Kind::Protocol,
            "wat2wasm response without valid base64 \"wasm\": " + response.dump().substr(0, 300)};
      }
      conversion.ok = true;
      conversion.wasm = std::move(*wasm);
    } else {
      conversion.error = response.value("error", std::string("(no error message)"));
    }
    cache_.writeConversion(key, conversion);
    for (size_t i : indices) results[i] = conversion;
  }
  return results;
}

Result<V8Verdict, WorkerError> CachedWorker::validate(std::span<const uint8_t> wasm) {
  // Entry format: "valid\n" or "invalid\n" followed by V8's message.
  std::string key = "validate\n" + v8_version_ + "\n" +
                    std::string(reinterpret_cast<const char*>(wasm.data()), wasm.size());
  if (auto entry = cache_.read(key, ".v8")) {
    size_t newline = entry->find('\n');
    std::string verdict = entry->substr(0, newline);
    if (newline != std::string::npos && (verdict == "valid" || verdict == "invalid")) {
      ++stats_.cache_hits;
      return V8Verdict{verdict == "valid", entry->substr(newline + 1)};
    }
  }
  ++stats_.worker_requests;
  auto response = worker_->call({{"op", "validate"}, {"wasm", base64Encode(wasm)}});
  if (!response.ok()) return response.error();
  const auto& r = response.value();
  if (!r.value("ok", false) || !r.contains("valid") || !r["valid"].is_boolean()) {
    return WorkerError{WorkerError::Kind::Protocol,
                       "bad validate response: " + r.dump().substr(0, 300)};
  }
  V8Verdict verdict{r["valid"].get<bool>(), r.value("message", std::string())};
  std::string entry = (verdict.valid ? "valid\n" : "invalid\n") + verdict.message;
  cache_.write(key, ".v8", entry);
  return verdict;
}

}  // namespace slabfuzz
