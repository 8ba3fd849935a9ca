// RecordCache: the encoded records (layout.h, EncodeRecord) of recently used
// keys, so that a read, and the read that precedes every write, do not have
// to search RocksDB's memtable skiplist and block cache (the largest single
// cost of a GET and of a PUT's read-before-write in kvd's profile).
//
// It is split into shards that line up with KeyLocks' stripes (a key's shard
// is KeyLocks::StripeOfHash of its hash), and a shard is only touched with
// its stripe's lock held. Since every write to a key holds that lock from
// its read to the end of its batch, the cache can be kept exact: a cached
// record is always the record RocksDB holds, except that the compaction
// filter may have dropped an expired one from disk (the store treats an
// expired record the same wherever it comes from). Writers replace or erase
// a key's entry after their batch, with the lock held; readers fill it on a
// miss, with the lock held.
//
// Each shard is bounded by capacity_bytes / shards, counting what each entry
// holds allocated (key, room for its record, and a fixed overhead); records
// whose entry would take more than an eighth of a shard are not cached. A
// rewrite reuses the entry when the record fits and fills at least half its
// room, so that a value that shrinks gives its memory back. Eviction is
// CLOCK (second chance): a hit only marks its entry, so that reads touch
// nothing but the entry itself. An entry is one allocation (links, key and
// record together): a lookup costs the bucket and the entry, two cache
// misses at most.
//
// Thread-safety: none of its own; see above.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <vector>

namespace kv::store {

class RecordCache {
 public:
  // Per entry, on top of key and record: the node, its bucket slot, malloc.
  static constexpr size_t kEntryOverhead = 96;

  RecordCache(size_t capacity_bytes, size_t shards)
      : shard_capacity_(shards == 0 ? 0 : capacity_bytes / shards), shards_(shards) {}
  ~RecordCache() {
    for (size_t i = 0; i < shards_.size(); ++i) Clear(i);
  }
  RecordCache(const RecordCache&) = delete;
  RecordCache& operator=(const RecordCache&) = delete;

  bool enabled() const { return shard_capacity_ > 0; }
  size_t shards() const { return shards_.size(); }

  // What a new entry for a key and record of these sizes is charged.
  static size_t EntryCharge(size_t key_size, size_t record_size) {
    return key_size + RoomFor(record_size) + kEntryOverhead;
  }
  // What the shard's entries are charged, together.
  size_t shard_bytes(size_t shard) const { return shards_[shard].bytes; }

  // Whether the key whose hash is `hash` is cached; if so *record is its
  // record, valid until the shard is next changed.
  bool Find(size_t hash, std::string_view key, std::string_view* record) {
    if (!enabled()) return false;
    Node* n = *Slot(ShardOf(hash), hash, key);
    if (n == nullptr) return false;
    n->referenced = true;
    *record = n->record();
    return true;
  }

  // Caches `record` as the key's record, replacing what was there.
  void Put(size_t hash, std::string_view key, std::string_view record) {
    if (!enabled()) return;
    Shard& s = ShardOf(hash);
    if (EntryCharge(key.size(), record.size()) > shard_capacity_ / 8) return Erase(hash, key);
    Node** slot = Slot(s, hash, key);
    Node* n = *slot;
    if (n != nullptr) {
      s.bytes -= Charge(*n);
      const size_t room = n->capacity - n->key_size;
      if (record.size() <= room && 2 * record.size() >= room) {
        std::memcpy(n->data() + n->key_size, record.data(), record.size());
        n->record_size = record.size();
      } else {
        Node* m = Node::Make(hash, key, record);
        m->chain = n->chain;
        *slot = m;
        if (n->ring_next == n) {
          m->ring_prev = m->ring_next = m;
        } else {
          m->ring_prev = n->ring_prev;
          m->ring_next = n->ring_next;
          m->ring_prev->ring_next = m;
          m->ring_next->ring_prev = m;
        }
        if (s.hand == n) s.hand = m;
        Node::Free(n);
        n = m;
      }
      n->referenced = true;
    } else {
      n = Node::Make(hash, key, record);
      *slot = n;
      // New entries go just behind the hand: the last to be looked at.
      if (s.hand == nullptr) {
        n->ring_prev = n->ring_next = n;
        s.hand = n;
      } else {
        n->ring_next = s.hand;
        n->ring_prev = s.hand->ring_prev;
        n->ring_prev->ring_next = n;
        s.hand->ring_prev = n;
      }
      if (++s.count > s.buckets.size()) Grow(s);
    }
    s.bytes += Charge(*n);
    while (s.bytes > shard_capacity_ && s.hand != nullptr) Evict(s);
  }

  void Erase(size_t hash, std::string_view key) {
    if (!enabled()) return;
    Shard& s = ShardOf(hash);
    Node** slot = Slot(s, hash, key);
    if (*slot != nullptr) Remove(s, slot);
  }

  void Clear(size_t shard) {
    if (!enabled()) return;
    Shard& s = shards_[shard];
    for (Node* head : s.buckets) {
      while (head != nullptr) {
        Node* next = head->chain;
        Node::Free(head);
        head = next;
      }
    }
    s.buckets.clear();
    s.hand = nullptr;
    s.count = 0;
    s.bytes = 0;
  }

 private:
  // Links, then `capacity` bytes holding the key and then the record.
  struct Node {
    Node* chain = nullptr;  // next in the bucket
    Node* ring_prev = nullptr;
    Node* ring_next = nullptr;
    size_t hash = 0;
    size_t key_size = 0;
    size_t record_size = 0;
    size_t capacity = 0;
    // Set on use, cleared by the passing hand; new entries start used, or
    // a full shard could evict them at once.
    bool referenced = true;

    char* data() { return reinterpret_cast<char*>(this + 1); }
    const char* data() const { return reinterpret_cast<const char*>(this + 1); }
    std::string_view key() const { return std::string_view(data(), key_size); }
    std::string_view record() const { return std::string_view(data() + key_size, record_size); }

    static Node* Make(size_t hash, std::string_view key, std::string_view record) {
      size_t capacity = key.size() + RoomFor(record.size());
      Node* n = new (::operator new(sizeof(Node) + capacity)) Node;
      n->hash = hash;
      n->key_size = key.size();
      n->record_size = record.size();
      n->capacity = capacity;
      std::memcpy(n->data(), key.data(), key.size());
      std::memcpy(n->data() + key.size(), record.data(), record.size());
      return n;
    }
    static void Free(Node* n) {
      n->~Node();
      ::operator delete(n);
    }
  };
  struct Shard {
    std::vector<Node*> buckets;  // a power of two in size, or empty
    Node* hand = nullptr;        // the CLOCK hand, in a ring of every node
    size_t count = 0;
    size_t bytes = 0;
  };

  // Room to grow a little, so that most rewrites of a key fit in place.
  static size_t RoomFor(size_t record_size) { return record_size + record_size / 8 + 16; }
  static size_t Charge(const Node& n) { return n.capacity + kEntryOverhead; }

  Shard& ShardOf(size_t hash) { return shards_[hash % shards_.size()]; }

  // The low bits of the hash pick the shard; buckets use the high bits.
  static size_t BucketOf(size_t hash, size_t buckets) {
    return (hash >> 20 ^ hash >> 40) & (buckets - 1);
  }

  // Where the key's node is linked from (null when it is not cached).
  Node** Slot(Shard& s, size_t hash, std::string_view key) {
    if (s.buckets.empty()) s.buckets.assign(8, nullptr);
    Node** slot = &s.buckets[BucketOf(hash, s.buckets.size())];
    while (*slot != nullptr && ((*slot)->hash != hash || (*slot)->key() != key)) {
      slot = &(*slot)->chain;
    }
    return slot;
  }

  void Grow(Shard& s) {
    std::vector<Node*> bigger(s.buckets.size() * 2, nullptr);
    for (Node* head : s.buckets) {
      while (head != nullptr) {
        Node* next = head->chain;
        Node*& b = bigger[BucketOf(head->hash, bigger.size())];
        head->chain = b;
        b = head;
        head = next;
      }
    }
    s.buckets.swap(bigger);
  }

  void Evict(Shard& s) {
    while (s.hand->referenced) {
      s.hand->referenced = false;
      s.hand = s.hand->ring_next;
    }
    Node* victim = s.hand;
    Remove(s, Slot(s, victim->hash, victim->key()));
  }

  void Remove(Shard& s, Node** slot) {
    Node* n = *slot;
    *slot = n->chain;
    if (n->ring_next == n) {
      s.hand = nullptr;
    } else {
      n->ring_prev->ring_next = n->ring_next;
      n->ring_next->ring_prev = n->ring_prev;
      if (s.hand == n) s.hand = n->ring_next;
    }
    s.bytes -= Charge(*n);
    --s.count;
    Node::Free(n);
  }

  const size_t shard_capacity_;
  std::vector<Shard> shards_;
};

}  // namespace kv::store
