#include "daemon/auth/token_store.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/base64.h"
#include "common/hex.h"
#include "common/key.h"

namespace kv::daemon::auth {
namespace {

using nlohmann::json;

constexpr int kFileVersion = 1;
constexpr size_t kSecretBytes = 32;
constexpr size_t kIdBytes = 8;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ParentDir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status MakeDirs(const std::string& dir) {
  if (dir.empty() || dir == "/" || dir == ".") return Status::Ok();
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    return S_ISDIR(st.st_mode) ? Status::Ok()
                               : Status::IOError(dir + " exists and is not a directory");
  }
  if (Status s = MakeDirs(ParentDir(dir)); !s.ok()) return s;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::IOError("cannot create " + dir + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IOError("cannot write " + path + ": " + std::strerror(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  size_t filled = 0;
  while (filled < n) {
    ssize_t got = getrandom(out.data() + filled, n - filled, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(std::string("getrandom: ") + std::strerror(errno));
    }
    filled += static_cast<size_t>(got);
  }
  return out;
}

std::string Sha256(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1 ||
      len != 32) {
    return std::string();  // never matches a stored 32-byte hash
  }
  return std::string(reinterpret_cast<const char*>(digest), len);
}

Result<std::unique_ptr<TokenStore>> TokenStore::Open(std::string path) {
  std::unique_ptr<TokenStore> store(new TokenStore(std::move(path)));
  int fd = ::open(store->path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return store;
    return Status::IOError("cannot read " + store->path_ + ": " + std::strerror(errno));
  }
  std::string text;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Status::IOError("cannot read " + store->path_ + ": " + std::strerror(err));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  auto corrupt = [&](const std::string& why) {
    return Status::Corruption(store->path_ + " is not a kvd token list (" + why +
                              "); move it away to start with no tokens");
  };
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return corrupt("not a JSON object");
  if (!doc.contains("version") || !doc["version"].is_number_integer() ||
      doc["version"].get<int>() != kFileVersion) {
    return corrupt("unknown version");
  }
  if (!doc.contains("tokens") || !doc["tokens"].is_array()) return corrupt("no token array");
  for (const json& t : doc["tokens"]) {
    if (!t.is_object() || !t.contains("id") || !t["id"].is_string() || !t.contains("tenant") ||
        !t["tenant"].is_string() || !t.contains("sha256") || !t["sha256"].is_string()) {
      return corrupt("a token lacks id, tenant or sha256");
    }
    Stored s;
    s.info.id = t["id"].get<std::string>();
    s.info.tenant = t["tenant"].get<std::string>();
    if (t.contains("created_ms") && t["created_ms"].is_number_integer()) {
      s.info.created_ms = t["created_ms"].get<int64_t>();
    }
    std::optional<std::string> hash = HexDecode(t["sha256"].get<std::string>());
    if (!hash || hash->size() != 32) return corrupt("a token hash is not 64 hex digits");
    if (!ValidateName(s.info.tenant, "tenant").ok()) return corrupt("bad tenant name");
    s.sha256 = std::move(*hash);
    store->tokens_.push_back(std::move(s));
  }
  return store;
}

Status TokenStore::Save(const std::vector<Stored>& tokens, const std::string& path) const {
  json list = json::array();
  for (const Stored& s : tokens) {
    list.push_back({{"id", s.info.id},
                    {"tenant", s.info.tenant},
                    {"created_ms", s.info.created_ms},
                    {"sha256", HexEncode(s.sha256)}});
  }
  json doc = {{"version", kFileVersion}, {"tokens", std::move(list)}};
  std::string text = doc.dump(2) + "\n";

  std::string dir = ParentDir(path);
  if (Status s = MakeDirs(dir); !s.ok()) return s;
  static std::atomic<uint64_t> counter{0};
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." +
                    std::to_string(counter.fetch_add(1));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("cannot create " + tmp + ": " + std::strerror(errno));
  Status status = WriteAll(fd, text, tmp);
  if (status.ok() && ::fchmod(fd, 0600) != 0) {
    status = Status::IOError("cannot chmod " + tmp + ": " + std::strerror(errno));
  }
  if (status.ok() && ::fsync(fd) != 0) {
    status = Status::IOError("cannot fsync " + tmp + ": " + std::strerror(errno));
  }
  if (::close(fd) != 0 && status.ok()) {
    status = Status::IOError("cannot close " + tmp + ": " + std::strerror(errno));
  }
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = Status::IOError("cannot rename " + tmp + " to " + path + ": " +
                             std::strerror(errno));
  }
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  // Make the rename itself durable.
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return Status::Ok();
}

Status TokenStore::SaveCopy(const std::string& path) {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  std::vector<Stored> tokens;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    tokens = tokens_;
  }
  return Save(tokens, path);
}

Result<NewToken> TokenStore::Create(std::string_view tenant) {
  if (Status s = ValidateName(tenant, "tenant"); !s.ok()) return s;
  Result<std::string> secret = RandomBytes(kSecretBytes);
  if (!secret.ok()) return secret.status();
  Result<std::string> id_bytes = RandomBytes(kIdBytes);
  if (!id_bytes.ok()) return id_bytes.status();

  NewToken out;
  out.token = std::string(kTokenPrefix) + Base64UrlEncode(*secret);
  out.info.id = HexEncode(*id_bytes);
  out.info.tenant = std::string(tenant);
  out.info.created_ms = NowMs();

  std::lock_guard<std::mutex> write_lock(write_mu_);
  std::vector<Stored> next;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    next = tokens_;
  }
  next.push_back(Stored{out.info, Sha256(out.token)});
  if (Status s = Save(next, path_); !s.ok()) return s;
  {
    std::unique_lock<std::shared_mutex> lock(mu_);
    tokens_ = std::move(next);
  }
  return out;
}

std::vector<TokenInfo> TokenStore::List() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  std::vector<TokenInfo> out;
  out.reserve(tokens_.size());
  for (const Stored& s : tokens_) out.push_back(s.info);
  return out;
}

Status TokenStore::Revoke(std::string_view id) {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  std::vector<Stored> next;
  bool found = false;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    for (const Stored& s : tokens_) {
      if (s.info.id == id) {
        found = true;
      } else {
        next.push_back(s);
      }
    }
  }
  if (!found) return Status::NotFound("no token with id '" + std::string(id) + "'");
  if (Status s = Save(next, path_); !s.ok()) return s;
  std::unique_lock<std::shared_mutex> lock(mu_);
  tokens_ = std::move(next);
  return Status::Ok();
}

std::optional<std::string> TokenStore::Lookup(std::string_view token) const {
  // A well-formed token is the prefix plus 43 base64url characters; anything
  // else cannot match, but is still hashed and compared so that the time taken
  // says nothing about how close a guess was.
  std::string hash = Sha256(token);
  bool well_formed = token.size() == 3 + 43 && token.substr(0, 3) == kTokenPrefix;
  std::shared_lock<std::shared_mutex> lock(mu_);
  const Stored* match = nullptr;
  for (const Stored& s : tokens_) {
    if (hash.size() == s.sha256.size() &&
        CRYPTO_memcmp(hash.data(), s.sha256.data(), hash.size()) == 0) {
      match = &s;
    }
  }
  if (match == nullptr || !well_formed) return std::nullopt;
  return match->info.tenant;
}

}  // namespace kv::daemon::auth
