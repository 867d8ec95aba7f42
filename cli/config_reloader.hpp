// Re-reading ember serve's file while the node runs: on SIGHUP, on POST /ember/v1/reload
// (`ember reload`) and, with --watch, when the file, a code directory or a layer changes.
// Loading the file, unpacking images and walking code directories happen on a thread of its
// own, so invocations go on; the node changes on its own thread. One reload at a time: one
// asked for meanwhile runs once the current one is served.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "ember/config/config.hpp"
#include "ember/engine/node.hpp"
#include "ember/engine/reload.hpp"
#include "ember/image/image.hpp"
#include "ember/runtime_api/reload_service.hpp"

namespace ember::cli {

class ConfigReloader final : public runtime_api::ReloadService {
 public:
  struct Setup {
    std::string command = "ember serve";  // prefixes its lines
    std::filesystem::path file;           // empty: nothing to reload (ember rie); SIGHUP says so
    bool native = false;                  // the node has native sandboxes
    bool oci = false;                     // ... and an OCI runtime's
    bool watch = false;                   // --watch
    std::chrono::milliseconds watch_interval{1000};
  };
  using Done = std::function<void(const engine::ReloadOutcome&)>;

  // `started`: the configuration the node was made with; `images`: its image functions'.
  ConfigReloader(boost::asio::io_context& io, engine::Node& node, Setup setup,
                 const config::Config& started,
                 const std::map<std::string, image::StoredImage>& images);
  ConfigReloader(const ConfigReloader&) = delete;
  ConfigReloader& operator=(const ConfigReloader&) = delete;
  ConfigReloader(ConfigReloader&&) = delete;
  ConfigReloader& operator=(ConfigReloader&&) = delete;
  ~ConfigReloader() override;

  // Takes SIGHUP and, with `watch`, starts looking for changes.
  void start();
  // No more signals or looking (the node is stopping).
  void stop();

  // Reloads; `done` (may be null) runs on the node's thread with the outcome. `origin` says
  // in the node's log what asked for it.
  void request(std::string origin, Done done);
  boost::asio::awaitable<boost::json::object> reload() override;

 private:
  // What the node serves now, as far as reloading is concerned.
  struct Served {
    config::Config config;
    std::map<std::string, image::StoredImage> images;
    std::map<std::string, std::uint64_t> code;  // code_fingerprints()
    std::uint64_t file = 0;                     // file_fingerprint() of the file
  };
  struct Loaded;

  void on_hangup();
  void schedule_watch();
  void begin_locked();                   // mutex_ held: runs the next reload on the thread
  void load(const std::string& origin);  // on the thread
  void look_for_changes();               // on the thread
  [[nodiscard]] std::optional<std::string> unservable(const config::Config& next) const;
  void apply(const std::string& origin,
             const std::shared_ptr<Loaded>& loaded);  // on the node's thread
  void finish(const engine::ReloadOutcome& outcome);  // on the node's thread

  boost::asio::io_context& io_;
  engine::Node& node_;
  Setup setup_;
  boost::asio::signal_set hangup_;
  boost::asio::steady_timer watch_timer_;
  std::vector<image::ImageLease> leases_;  // images of reloads, kept while the node runs

  std::mutex mutex_;  // what follows: the thread and the node's thread both use it
  Served served_;
  // What --watch last looked at: a change from it asks for one reload, even one refused.
  std::map<std::string, std::uint64_t> seen_code_;
  std::uint64_t seen_file_ = 0;
  bool busy_ = false;
  std::string again_;          // origin of a reload asked for during one; empty: none
  std::vector<Done> waiting_;  // for the reload that runs next
  std::vector<Done> running_;  // for the one that runs now
  bool stopped_ = false;

  boost::asio::thread_pool thread_{1};  // last: joined first
};

}  // namespace ember::cli
