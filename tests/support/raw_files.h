// The raw bytes of every file under a directory, for tests that look at what
// is on disk (encryption at rest) or check that a refused start changed
// nothing.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace kv::testing {

// Every regular file under `dir`, by path relative to it, with its bytes.
inline std::map<std::string, std::string> SnapshotFiles(const std::string& dir) {
  namespace fs = std::filesystem;
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    files[fs::relative(e.path(), dir).string()] = bytes.str();
  }
  return files;
}

// The files under `dir` (relative paths) whose raw bytes contain `needle`.
inline std::vector<std::string> FilesContaining(const std::string& dir, const std::string& needle) {
  std::vector<std::string> found;
  for (const auto& [name, bytes] : SnapshotFiles(dir)) {
    if (bytes.find(needle) != std::string::npos) found.push_back(name);
  }
  return found;
}

// True when one of `names` ends with `suffix` (".sst", ".log").
inline bool AnyEndsWith(const std::vector<std::string>& names, const std::string& suffix) {
  for (const std::string& n : names) {
    if (n.size() >= suffix.size() &&
        n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return true;
    }
  }
  return false;
}

}  // namespace kv::testing
