// The public portal (docs/publication.md sections 1, 2 and 4): takes signed release packages
// from an inbox, keeps them in a data folder, and serves their content (JSON API, SDMX REST,
// downloads, the site) from a verified in-memory copy, holding each release until its minute.
// Never opens the internal database; everything it shows comes from packages that verify with
// the bureau's public key.
//
// Data folder:
//   DIR/archive/<sequence>.sgpkg    every accepted package, byte for byte as received
//   DIR/published/<sequence>/...    its files unpacked (for operators and web servers; the portal
//                                   itself never serves from here, and re-checks it for tampering)
//   DIR/set-aside/                  archived packages that no longer verified at start
//   DIR/state.json                  last accepted sequence and the package ids seen
// Inbox: *.sgpkg files; write them as NAME.sgpkg.tmp and rename, or the portal waits until the
// size stays the same for a poll. Refused packages go to INBOX/refused/ with NAME.reason.txt.
//
// Thread safety: HTTP handlers run on the server's threads and only read: they take a
// snapshot (shared_ptr<const View>) under mu_ and work on it without a lock. Accepting packages
// and the integrity check run on the portal's background thread (or a test's thread), one at a
// time under work_mu_; they publish new state under mu_. The response cache has its own mutex.
#pragma once

#include "base/clock.hpp"
#include "base/result.hpp"
#include "http/http.hpp"
#include "publish/dataset.hpp"
#include "publish/package.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace statgov::portal {

using json = nlohmann::json;

struct PortalOptions {
  std::filesystem::path inbox, data;
  std::string public_key;  // raw 32 bytes
  std::size_t max_response_bytes = 32 * 1024 * 1024;
  std::chrono::seconds integrity_interval{10};
  std::chrono::milliseconds inbox_interval{1000};
  std::size_t cache_bytes = 64 * 1024 * 1024;
};

// One published dataset as carried by one package.
struct DatasetVersion {
  publish::Dataset dataset;
  json published;  // datasets/{id}.json as in the package
  std::string release_id, release_at;
  std::uint64_t sequence = 0;
};

// One accepted package, parsed and checked. Immutable once loaded.
struct Package {
  publish::VerifiedPackage verified;
  std::string archive_sha256;  // of the .sgpkg bytes, to notice an edited archive
  TimePoint release_at{};      // the embargo; epoch = none
  json release;                // release.json, or null
  json calendar;               // calendar.json, or null
  std::vector<std::shared_ptr<const DatasetVersion>> datasets;
  std::map<std::string, json> documents;  // by index_no
  bool has_site = false;

  std::uint64_t sequence() const { return verified.manifest.sequence; }
  bool visible_at(TimePoint now) const { return release_at <= now; }
};

// Parse a verified package's content (release.json, calendar.json, datasets, documents).
// Errors: BAD_CONTENT naming the file.
Result<std::shared_ptr<const Package>> load_package(publish::VerifiedPackage verified);

// What the public may see at one instant: the packages whose release_at has passed.
struct View {
  std::string key;             // changes whenever the visible set changes
  std::vector<json> releases;  // newest first
  struct DatasetEntry {
    std::shared_ptr<const DatasetVersion> current;
    json revisions = json::array();  // earlier versions: {updated, release_id, sequence}
  };
  std::map<std::string, DatasetEntry> datasets;
  struct DocumentEntry {
    json document;
    std::shared_ptr<const Package> package;  // holds its attachment bytes
  };
  std::map<std::string, DocumentEntry> documents;
  std::shared_ptr<const Package> site;  // the latest visible package carrying site/
  json calendar = json::array();        // public before the releases it lists
};

struct TamperEvent {
  std::string path;    // relative to the data folder
  std::string change;  // modified | deleted | added
  bool repaired = false;
  std::string detected_at;
};

// Bounded LRU of generated responses, keyed by (dataset version, query, format, lang).
class ResponseCache {
 public:
  explicit ResponseCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  std::shared_ptr<const http::Response> get(const std::string& key);
  void put(const std::string& key, std::shared_ptr<const http::Response> r);
  std::size_t hits() const;

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const http::Response>>;
  mutable std::mutex mu_;
  std::size_t max_bytes_, bytes_ = 0, hits_ = 0;
  std::list<Entry> lru_;  // front = most recent
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

class Portal {
 public:
  Portal(PortalOptions options, const Clock& clock);
  ~Portal();
  Portal(const Portal&) = delete;
  Portal& operator=(const Portal&) = delete;

  // Creates the folders, re-verifies the archive (setting aside what no longer verifies),
  // restores the published files, and takes the inbox once.
  Status open();
  // The poller thread: inbox every inbox_interval, integrity every integrity_interval.
  void start();
  void stop();

  // One pass over the inbox; returns how many packages were accepted.
  int poll_inbox();
  // Accept one package's bytes (what the inbox does per file). Errors say why it was refused.
  Result<std::uint64_t> accept(const std::string& bytes);
  // Re-hash every unpacked file against the signed manifests, repair, report. Returns what this
  // run found.
  std::vector<TamperEvent> check_integrity();

  std::shared_ptr<const View> view() const;
  json health() const;
  void register_routes(http::Router& router);

  const PortalOptions& options() const { return opt_; }
  const Clock& clock() const { return clock_; }
  ResponseCache& cache() { return cache_; }

 private:
  Result<std::uint64_t> accept_verified(publish::VerifiedPackage verified,
                                        const std::string& bytes);
  Status load_archive();
  Status write_state();
  Status unpack(const Package& p);
  void refuse(const std::filesystem::path& file, const Error& why);

  PortalOptions opt_;
  const Clock& clock_;
  ResponseCache cache_;

  std::mutex work_mu_;  // serialises accept / inbox / integrity
  // Inbox files seen at the previous poll: name -> (size, mtime), to wait for stable sizes.
  std::map<std::string, std::pair<std::uintmax_t, std::filesystem::file_time_type>> pending_;

  mutable std::mutex mu_;  // guards everything below
  std::map<std::uint64_t, std::shared_ptr<const Package>> packages_;
  std::uint64_t last_sequence_ = 0;
  std::set<std::string> package_ids_;
  std::string agency_;
  std::uint64_t generation_ = 0;
  mutable std::shared_ptr<const View> view_;
  std::vector<TamperEvent> tampered_;  // since start, newest last, bounded
  std::string integrity_checked_at_;

  std::mutex thread_mu_;
  std::condition_variable thread_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace statgov::portal
