#include "daemon/store/encryption.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <rocksdb/env_encryption.h>
#include <rocksdb/file_system.h>

#include "daemon/store/aes_ctr_provider.h"

namespace kv::store {

Result<std::unique_ptr<rocksdb::Env>> EnvForDatabase(const std::string& db_dir,
                                                     const std::optional<EncryptionKey>& key) {
  const std::string current = db_dir + "/CURRENT";
  std::ifstream in(current, std::ios::binary);
  if (in) {
    std::string head(kEncryptionHeaderBytes, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    if (in.bad()) {
      return Status::IOError("cannot read " + current + ": " + std::strerror(errno));
    }
    head.resize(static_cast<size_t>(in.gcount()));
    if (HasEncryptionHeader(head)) {
      if (!key) {
        return Status::Unauthorized("data directory " + db_dir +
                                    " is encrypted: its key is needed (--encryption-key-file)");
      }
      switch (MatchHeader(head, *key)) {
        case HeaderMatch::kThisKey:
          break;
        case HeaderMatch::kUnknownVersion:
          return Status::Unauthorized("data directory " + db_dir +
                                      " is encrypted in a format this kvd does not know");
        case HeaderMatch::kOtherKey:
        case HeaderMatch::kNoHeader:
          return Status::Unauthorized(
              "the encryption key does not open data directory " + db_dir +
              ": it was encrypted with another key (nothing was changed)");
      }
    } else if (key) {
      return Status::InvalidArgument(
          "data directory " + db_dir +
          " is not encrypted, but an encryption key was given: start without "
          "--encryption-key-file, or copy the data into a new encrypted kvd (kv export | kv "
          "import)");
    }
  }
  if (!key) return std::unique_ptr<rocksdb::Env>();
  std::shared_ptr<rocksdb::FileSystem> fs =
      rocksdb::NewEncryptedFS(rocksdb::FileSystem::Default(), NewAesCtrProvider(*key));
  if (!fs) return Status::Internal("cannot set up RocksDB's encrypted file system");
  return rocksdb::NewCompositeEnv(fs);
}

}  // namespace kv::store
