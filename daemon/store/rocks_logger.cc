#include "daemon/store/rocks_logger.h"

#include <sys/stat.h>
#include <sys/time.h>

#include <cstdarg>
#include <ctime>

namespace kv::store {

std::shared_ptr<rocksdb::Logger> RocksLogger::Open(const std::string& dir) {
  const std::string path = dir + "/LOG";
  // Appends, so that a second kvd refused the directory leaves the running
  // one's log alone; a log grown past 1 MiB moves to LOG.old first.
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && st.st_size > (1 << 20)) {
    std::rename(path.c_str(), (path + ".old").c_str());
  }
  std::FILE* file = std::fopen(path.c_str(), "ae");
  if (file == nullptr) return nullptr;
  std::shared_ptr<RocksLogger> logger(new RocksLogger(file));
  logger->SetInfoLogLevel(rocksdb::InfoLogLevel::INFO_LEVEL);
  return logger;
}

RocksLogger::~RocksLogger() { std::fclose(file_); }

void RocksLogger::Logv(const char* format, va_list ap) {
  timeval now;
  ::gettimeofday(&now, nullptr);
  tm t;
  ::localtime_r(&now.tv_sec, &t);
  std::lock_guard<std::mutex> l(mu_);
  std::fprintf(file_, "%04d/%02d/%02d-%02d:%02d:%02d.%06ld ", t.tm_year + 1900, t.tm_mon + 1,
               t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, static_cast<long>(now.tv_usec));
  std::vfprintf(file_, format, ap);
  std::fputc('\n', file_);
  std::fflush(file_);
  std::clearerr(file_);  // a full disk loses lines, never the process
}

}  // namespace kv::store
