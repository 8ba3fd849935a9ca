// The admin panel's files (daemon/ui/assets/), compiled into kvd: nothing to
// install beside it and no CDN, so /ui works on a machine that is offline.
// The table is generated at build time by embed_assets.cmake, which also
// computes each file's content type and ETag (a hash of its bytes).
//
// Thread-safety: constant data.
#pragma once

#include <string_view>

namespace kv::daemon::ui {

struct Asset {
  std::string_view path;          // "index.html", "js/app.js": relative to assets/
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view etag;          // quoted, strong: "\"3f9a0c1d2b4e5f60\""
  std::string_view body;
};

// The asset at `path`, or null.
const Asset* FindAsset(std::string_view path);

}  // namespace kv::daemon::ui
