// The boundary between kv and libkv_remote.so, the shared library that holds
// the backends needing libcurl: keyvalue.dev, etcd, Invoke, and a kvd over
// HTTPS. kv itself links no libcurl (DESIGN.md: linking it costs ~1.8 ms per
// run); client/connect.cc opens this library with dlopen() the first time a
// remote URL is used, and keeps it loaded for the rest of the process (the
// backends it made run its code).
//
// Where kv looks for it: $KV_REMOTE_LIB when set, else
// <dir of the kv executable>/../lib/kv/libkv_remote.so, which is both the
// build tree's layout (build/cmd/kv, build/lib/kv/) and the installed one
// (PREFIX/bin/kv, PREFIX/lib/kv/).
//
// What crosses the boundary: two extern "C" functions (no C++ name mangling
// to look up), whose arguments are C++ types by pointer: ConnectOptions in,
// a Backend* and a kv::Status out. That is sound only because kv and the
// library are built from the same tree by the same compiler and standard
// library in one build, which the ABI tag checks before anything else is
// called: a library from another build (or another compiler, or with other
// struct layouts) is refused with a clear message instead of crashing.
// The Backend is allocated by the library and deleted by kv through its
// virtual destructor (same allocator: one libstdc++ per process).
//
// Thread-safety: kv_remote_open_backend may be called from several threads
// at once (kv import's workers open their own backends on one thread today).
#pragma once

#include <cstddef>
#include <string>

#include "client/backend.h"
#include "client/connect.h"
#include "common/status.h"

// The library's file name.
#define KV_REMOTE_LIBRARY_NAME "libkv_remote.so"

namespace kv::client {

// What kv lends the library.
struct RemoteHost {
  // True while Ctrl-C is pending in kv's shell; the library's waits give up.
  // nullptr: nothing interrupts.
  bool (*interrupted)() = nullptr;
};

// Identifies the build: kv and the library must compute the same tag. The
// build defines KV_REMOTE_INTERFACE_HASH (a hash of the headers whose types
// cross the boundary) for both sides.
#ifndef KV_REMOTE_INTERFACE_HASH
#define KV_REMOTE_INTERFACE_HASH "unknown"
#endif
inline std::string RemoteAbiTag() {
  return std::string("kv-remote 1; headers ") + KV_REMOTE_INTERFACE_HASH + "; " + __VERSION__ +
         "; cxx11abi " + std::to_string(_GLIBCXX_USE_CXX11_ABI) +
         "; ConnectOptions " + std::to_string(sizeof(ConnectOptions)) +
         "; Status " + std::to_string(sizeof(Status)) +
         "; KeyMeta " + std::to_string(sizeof(KeyMeta)) +
         "; RemoteHost " + std::to_string(sizeof(RemoteHost));
}

// The entry points' types, for dlsym().
using RemoteAbiTagFn = const char* (*)();
using RemoteOpenFn = Backend* (*)(const ConnectOptions* options, const RemoteHost* host,
                                  Status* error);

}  // namespace kv::client

extern "C" {

// The library's RemoteAbiTag(), valid for the life of the process.
__attribute__((visibility("default"))) const char* kv_remote_abi_tag();

// Builds the backend for options->url: keyvalue.dev, kvdev+http(s)://,
// https:// (a kvd), etcd://, etcds://, invoke+http(s)://. Returns a new
// Backend that the caller owns, or nullptr with *error set: InvalidArgument
// for a URL it does not understand or bad options. Connects lazily, so an
// unreachable server shows on the first operation.
// REQUIRES: kv_remote_abi_tag() equals the caller's RemoteAbiTag().
__attribute__((visibility("default"))) kv::client::Backend* kv_remote_open_backend(
    const kv::client::ConnectOptions* options, const kv::client::RemoteHost* host,
    kv::Status* error);

}  // extern "C"
