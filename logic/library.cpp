#include "logic/library.hpp"

#include <cstdint>

#include <nlohmann/json.hpp>

#include "messages/codec.hpp"
#include "messages/names.hpp"

namespace grove::logic::library {

std::string shard(std::string_view name) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : name) {
    h ^= c;
    h *= 16777619u;
  }
  constexpr const char* hex = "0123456789abcdef";
  return {hex[(h >> 4) & 0xf], hex[h & 0xf]};
}

std::string file(std::string_view name) {
  return shard(name) + "/" + std::string{name} + ".json";
}

std::string flat_name(std::string_view filename, std::string_view content) {
  constexpr std::string_view ext = ".json";
  if (filename.size() <= ext.size() || filename.substr(filename.size() - ext.size()) != ext) return {};
  auto name = filename.substr(0, filename.size() - ext.size());
  if (!messages::is_valid_name(name)) return {};
  auto doc = nlohmann::json::parse(content, nullptr, false);
  if (!doc.is_object() || !doc.contains("component") || doc["component"] != name) return {};
  return std::string{name};
}

int version_of(std::string_view artifact) {
  auto doc = nlohmann::json::parse(artifact, nullptr, false);
  if (!doc.is_object() || !doc.contains("version") || !doc["version"].is_number_integer()) return 0;
  return doc["version"].get<int>();
}

std::string with_version(const std::string& artifact, int version) {
  auto doc = nlohmann::json::parse(artifact, nullptr, false);
  if (!doc.is_object()) return artifact;
  doc["version"] = version;
  return messages::component_to_text(doc);
}

} // namespace grove::logic::library
